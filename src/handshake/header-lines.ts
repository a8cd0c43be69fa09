/**
 * Writing header field lines safely: every name must be a token and no value may carry CR, LF or
 * another control character, so that caller-supplied headers can never split the message
 * (response splitting, RFC 9112 §11.1) or forge fields the handshake sets itself.
 */

import { isToken } from './headers.ts';

/**
 * Throws unless `name` is a valid field name (RFC 9110 §5.1: `field-name = token`).
 *
 * @param name - The field name.
 * @throws {TypeError} When `name` is not a token.
 */
export function assertFieldName(name: string): void {
  if (typeof name !== 'string' || !isToken(name)) {
    throw new TypeError(`Invalid HTTP header name: ${JSON.stringify(name)}`);
  }
}

/**
 * Throws unless `value` is a valid field value: RFC 9110 §5.5 `field-value = *field-content` whose
 * characters are VCHAR, obs-text, SP or HTAB — in particular no CR, LF or NUL ("Field values
 * containing CR, LF, or NUL characters are invalid and dangerous").
 *
 * @param name - The field name, for the error message.
 * @param value - The field value.
 * @throws {TypeError} When `value` is not a string or contains a control character other than HTAB.
 */
export function assertFieldValue(name: string, value: string): void {
  if (typeof value !== 'string') throw new TypeError(`Value of HTTP header ${name} must be a string`);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      throw new TypeError(
        `Invalid character in the value of HTTP header ${name} (CR, LF and controls are refused)`,
      );
    }
  }
}

/**
 * Header fields an application adds to a response, by name. A number is written in decimal, as
 * Node's `response.setHeader()` does (`{ 'Retry-After': 120 }`).
 */
export type HeaderFields = Readonly<Record<string, string | number>>;

/**
 * Formats caller-supplied header fields as `Name: value\r\n` lines.
 *
 * @param headers - Extra fields, or `undefined`.
 * @param reserved - Lowercase names the handshake writes itself; supplying one is an error.
 * @returns The lines, each terminated by CRLF (empty string when there are none).
 * @throws {TypeError} On an invalid name or value, or a reserved name.
 */
export function formatHeaderFields(headers: HeaderFields | undefined, reserved: readonly string[]): string {
  if (headers === undefined) return '';
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    assertFieldName(name);
    if (reserved.includes(name.toLowerCase())) {
      throw new TypeError(`HTTP header ${name} is set by the handshake and cannot be overridden`);
    }
    const text = typeof value === 'number' ? String(value) : value;
    assertFieldValue(name, text);
    out += `${name}: ${text}\r\n`;
  }
  return out;
}
