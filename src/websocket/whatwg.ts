/**
 * The WHATWG side of the WebSocket (`addEventListener`, `onmessage`…), for code written against
 * browsers: each WHATWG listener is an EventEmitter listener that builds the event object and calls
 * the callback. The emitter's own list is the only record of them (a `once` listener that fired is
 * gone from both at once), so a WebSocket that has none costs nothing here; the wrapper is made when
 * a listener is added, never per message.
 */
import type { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import { CloseEvent, ErrorEvent, MessageEvent, WebSocketEvent } from './events.ts';
import type { BinaryType, RawData } from './types.ts';

// biome-ignore lint/suspicious/noExplicitAny: listeners of different events take different arguments
type Listener = (...args: any[]) => void;

/** An `on…` handler attribute's value. */
export type WhatwgHandler = ((event: never) => void) | null;

/** A WHATWG event listener: a function, or an object with a `handleEvent` method (DOM §2.7). */
export type WhatwgCallback = Listener | { handleEvent: Listener };

/** What the adapter needs of a WebSocket: its emitter, and how it delivers binary messages. */
export interface WhatwgTarget extends EventEmitter {
  readonly binaryType: BinaryType;
}

/** The events of the WHATWG WebSocket interface, the only ones `addEventListener` takes (as `ws`). */
const WHATWG_EVENT_TYPES: readonly string[] = ['open', 'message', 'error', 'close'];

/** The values `binaryType` accepts; any other is ignored, as in `ws` and browsers (WebIDL enum). */
export const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

/** On the EventEmitter listener of a WHATWG listener: the callback it calls, and whether it is an on… handler. */
const kWhatwgCallback = Symbol('sockwire.whatwgCallback');
const kEventHandler = Symbol('sockwire.eventHandler');
type WhatwgWrapper = Listener & { [kWhatwgCallback]?: WhatwgCallback; [kEventHandler]?: boolean };

/**
 * `addEventListener()`: as in the DOM (§2.7 "add an event listener"), a listener already added for
 * the same type is not added twice; `on…` handlers are separate listeners. Only the WebSocket
 * interface's events are taken, as in `ws`: other types are ignored.
 */
export function addEventListener(
  target: WhatwgTarget,
  type: string,
  listener: WhatwgCallback,
  options?: { once?: boolean } | boolean,
): void {
  if (!WHATWG_EVENT_TYPES.includes(type)) return;
  if (typeof listener !== 'function' && (typeof listener !== 'object' || listener === null)) return;
  if (findWhatwg(target, type, listener, false) !== undefined) return;
  addWhatwg(target, type, listener, typeof options === 'object' && options?.once === true, false);
}

/** `removeEventListener()`: never removes an `on…` handler, as in the DOM. */
export function removeEventListener(target: WhatwgTarget, type: string, listener: WhatwgCallback): void {
  const wrapper = findWhatwg(target, type, listener, false);
  if (wrapper !== undefined) target.off(type, wrapper);
}

/** The value of an `on…` handler attribute, or null. */
export function getHandler(target: WhatwgTarget, type: string): WhatwgHandler {
  return (findHandler(target, type)?.[kWhatwgCallback] as WhatwgHandler | undefined) ?? null;
}

/** HTML "event handler attributes": one listener per type, separate from addEventListener ones. */
export function setHandler(target: WhatwgTarget, type: string, handler: WhatwgHandler): void {
  const previous = findHandler(target, type);
  if (previous !== undefined) target.off(type, previous);
  if (typeof handler === 'function') addWhatwg(target, type, handler as Listener, false, true);
}

/**
 * The EventEmitter listener that calls a WHATWG callback with an event object. Its callback and
 * whether it is an `on…` handler are kept on it, so that the emitter's own list is the only record.
 */
function addWhatwg(
  target: WhatwgTarget,
  type: string,
  callback: WhatwgCallback,
  once: boolean,
  handler: boolean,
): void {
  const call = (event: WebSocketEvent): void => {
    if (typeof callback === 'function') callback.call(target, event);
    else if (typeof callback.handleEvent === 'function') callback.handleEvent(event);
  };
  const wrapper = adapter(target, type, call) as WhatwgWrapper;
  wrapper[kWhatwgCallback] = callback;
  wrapper[kEventHandler] = handler;
  if (once) target.once(type, wrapper);
  else target.on(type, wrapper);
}

/** The listener registered for (type, callback), among `on…` handlers or among the others. */
function findWhatwg(
  target: WhatwgTarget,
  type: string,
  callback: WhatwgCallback,
  handler: boolean,
): WhatwgWrapper | undefined {
  for (const listener of target.listeners(type) as WhatwgWrapper[]) {
    if (listener[kWhatwgCallback] === callback && listener[kEventHandler] === handler) return listener;
  }
  return undefined;
}

/** The `on…` handler's listener for `type`, if one is set. */
function findHandler(target: WhatwgTarget, type: string): WhatwgWrapper | undefined {
  for (const listener of target.listeners(type) as WhatwgWrapper[]) {
    if (listener[kEventHandler] === true) return listener;
  }
  return undefined;
}

function adapter(target: WhatwgTarget, type: string, call: (event: WebSocketEvent) => void): Listener {
  switch (type) {
    case 'message':
      return ((data: Buffer, isBinary: boolean) =>
        call(
          new MessageEvent(isBinary ? binaryData(target.binaryType, data) : data.toString('utf8'), target),
        )) as Listener;
    case 'close':
      return ((code: number, reason: Buffer) =>
        call(new CloseEvent(code, reason.toString(), code !== CloseCode.Abnormal, target))) as Listener;
    case 'error':
      return ((error: unknown) => call(new ErrorEvent(error, target))) as Listener;
    default:
      return (() => call(new WebSocketEvent(type, target))) as Listener;
  }
}

function binaryData(binaryType: BinaryType, data: Buffer): RawData {
  switch (binaryType) {
    case 'arraybuffer':
      return new Uint8Array(data).buffer; // a copy: the message may be a view into a larger buffer
    case 'fragments':
      return [data];
    case 'blob':
      return new Blob([data]);
    default:
      return data;
  }
}

/**
 * The WHATWG interface's constants (WebIDL: enumerable, read-only, non-configurable) on the class and
 * on the prototype, and its attributes as enumerable accessors on the prototype: the shape `ws` has,
 * which code that inspects or copies a WebSocket's properties sees. (Class accessors are not
 * enumerable by default.)
 */
export function defineWebIdlShape(websocketClass: { readonly prototype: object }): void {
  for (const [name, value] of Object.entries(ReadyState)) {
    for (const target of [websocketClass, websocketClass.prototype]) {
      Object.defineProperty(target, name, { value, enumerable: true, writable: false, configurable: false });
    }
  }
  for (const name of [
    'binaryType',
    'bufferedAmount',
    'extensions',
    'isPaused',
    'protocol',
    'readyState',
    'url',
  ]) {
    Object.defineProperty(websocketClass.prototype, name, { enumerable: true });
  }
  // HTML "event handler attributes": `ws.onmessage = …`, one listener per type.
  for (const type of ['open', 'message', 'close', 'error']) {
    Object.defineProperty(websocketClass.prototype, `on${type}`, {
      get(this: WhatwgTarget): WhatwgHandler {
        return getHandler(this, type);
      },
      set(this: WhatwgTarget, handler: WhatwgHandler) {
        setHandler(this, type, handler);
      },
      enumerable: true,
      configurable: true,
    });
  }
}
