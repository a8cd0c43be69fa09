/**
 * Opcodes (§5.2) as plain numbers, for tests that write frames by hand: kept apart from
 * src/frame/opcode.ts on purpose, so that a wrong constant there cannot hide in both sides of a test.
 */

/** §5.2: %x0 denotes a continuation frame. */
export const CONTINUATION = 0x0;
/** §5.2: %x1 denotes a text frame. */
export const TEXT = 0x1;
/** §5.2: %x2 denotes a binary frame. */
export const BINARY = 0x2;
/** §5.2: %x8 denotes a connection close. */
export const CLOSE = 0x8;
/** §5.2: %x9 denotes a ping. */
export const PING = 0x9;
/** §5.2: %xA denotes a pong. */
export const PONG = 0xa;
