/**
 * A console client: every line you type is sent, every message received is printed; "exit" (or
 * Ctrl-D) closes the connection with 1000 and quits.
 *
 *   npx tsx examples/echo-server.ts                                  # in one terminal
 *   npx tsx examples/console-client.ts ws://127.0.0.1:8080           # in another
 *
 * (`sockwire connect <url>` is the full-featured version of this, see src/cli.)
 */
import { createInterface } from 'node:readline';
import { WebSocket } from '../src/index.ts';

const url = process.argv[2] ?? 'ws://127.0.0.1:8080';
const ws = new WebSocket(url);

ws.on('open', () => {
  // Read stdin only once connected, so that no line is typed into the void.
  const input = createInterface({ input: process.stdin });
  console.log(`connected to ${url}; type a message, or "exit" to quit`);
  input.on('line', (line) => {
    if (line.trim() === 'exit') {
      ws.close(1000, 'bye');
      input.close();
      return;
    }
    ws.send(line);
  });
  // Ctrl-D: the end of the input closes normally too.
  input.on('close', () => {
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
  });
});
ws.on('message', (data: Buffer, isBinary: boolean) => {
  console.log(isBinary ? `< [${data.length} bytes] ${data.toString('hex')}` : `< ${data.toString()}`);
});
ws.on('error', (error: Error) => console.error(`error: ${error.message}`));
ws.on('close', (code: number, reason: Buffer) => {
  console.log(`closed: ${code} ${reason.toString()}`);
  // Exit now: stdin, still open in the terminal, would keep the process alive.
  process.exit(code === 1000 ? 0 : 1);
});
