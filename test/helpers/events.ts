/** The core's events as short strings, for tests that check what a Connection reported, in order. */
import type { ConnectionEvent } from '../../src/connection/connection.ts';

export const summary = (events: ConnectionEvent[]): string[] =>
  events.map((event) => {
    switch (event.type) {
      case 'message-part':
        return `part ${event.binary ? 'binary' : 'text'} ${Buffer.from(event.data).toString()}${event.fin ? ' fin' : ''}`;
      case 'message':
        return `message ${event.compressed ? 'compressed' : Buffer.from(event.data).toString()}`;
      case 'fail':
        return `fail ${event.error.closeCode}`;
      case 'close':
        return `close ${event.code}`;
      default:
        return `${event.type} ${Buffer.from(event.data).toString()}`;
    }
  });
