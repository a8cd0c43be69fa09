export { ByteQueue } from './byte-queue.ts';
export { CloseCode, isValidReceivedCloseCode, isValidSentCloseCode } from './close-code.ts';
export { FrameDecoder, type FrameDecoderOptions, type FramePart } from './decoder.ts';
export {
  type EncodeOptions,
  encodeFrame,
  encodeFrameHeader,
  frameHeaderLength,
  writeFrameHeader,
} from './encoder.ts';
export { type FrameHeader, MAX_CONTROL_PAYLOAD_LENGTH, RsvBit } from './frame.ts';
export { applyMask } from './mask.ts';
export { isControlOpcode, isKnownOpcode, Opcode } from './opcode.ts';
export { isValidUtf8, Utf8Validator } from './utf8.ts';
