/**
 * Frame opcodes, RFC 6455 §5.2 and §11.8.
 *
 * "Opcode: 4 bits. Defines the interpretation of the 'Payload data'. If an unknown opcode is
 * received, the receiving endpoint MUST _Fail the WebSocket Connection_."
 */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  // 0x3-0x7 are reserved for further non-control frames.
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
  // 0xB-0xF are reserved for further control frames.
} as const;

export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Whether `opcode` is one RFC 6455 defines (§5.2); any other value fails the connection. */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/**
 * RFC 6455 §5.5: "Control frames are identified by opcodes where the most significant bit of the
 * opcode is 1."
 */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}
