import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket } from '../../../src/index.ts';

/** The table EventEmitter keeps its listeners in (src/websocket/listener-table.ts). */
function tableOf(emitter: EventEmitter): object {
  return (emitter as unknown as { _events: object })._events;
}

describe('a WebSocket keeps its listeners in a table that inherits nothing', () => {
  it('has a table of its own kind, whose prototype has no prototype', () => {
    const ws = new WebSocket();
    const table = tableOf(ws);
    const prototype = Object.getPrototypeOf(table) as object;
    expect(prototype).not.toBe(Object.prototype);
    expect(prototype).not.toBeNull();
    expect(Object.getPrototypeOf(prototype)).toBeNull();
    expect(Object.keys(table)).toEqual([]);
  });

  it("treats names of Object.prototype's members as plain event names", () => {
    const ws = new WebSocket();
    expect(ws.listenerCount('toString')).toBe(0);
    expect(ws.emit('hasOwnProperty' as 'open')).toBe(false);
    const heard: string[] = [];
    ws.on('__proto__' as 'open', () => heard.push('__proto__'));
    ws.on('constructor' as 'open', () => heard.push('constructor'));
    expect(ws.emit('__proto__' as 'open')).toBe(true);
    expect(ws.emit('constructor' as 'open')).toBe(true);
    expect(heard).toEqual(['__proto__', 'constructor']);
    expect(ws.eventNames()).toEqual(['__proto__', 'constructor']);
  });

  it('adds, lists, removes and counts listeners as any EventEmitter does', () => {
    const ws = new WebSocket();
    const calls: unknown[] = [];
    const onMessage = (data: unknown) => calls.push(data);
    ws.on('message', onMessage);
    ws.once('message', () => calls.push('once'));
    ws.on('close', () => calls.push('close'));
    expect(ws.eventNames()).toEqual(['message', 'close']);
    expect(ws.listenerCount('message')).toBe(2);
    ws.emit('message', Buffer.from('a'), false);
    ws.emit('message', Buffer.from('b'), false);
    expect(calls.map(String)).toEqual(['a', 'once', 'b']);
    ws.off('message', onMessage);
    expect(ws.eventNames()).toEqual(['close']);
    expect(ws.emit('message', Buffer.from('c'), false)).toBe(false);
    ws.removeAllListeners();
    expect(ws.eventNames()).toEqual([]);
    ws.on('open', () => calls.push('open'));
    ws.emit('open');
    expect(calls.at(-1)).toBe('open');
  });

  it('does not change what an EventEmitter of Node makes', () => {
    expect(Object.getPrototypeOf(tableOf(new EventEmitter()))).toBeNull();
  });
});
