/**
 * A client for secure-server.ts: it trusts the server's self-signed certificate by passing it as
 * `ca`, so the certificate is still verified (name and signature), not merely accepted.
 *
 *   npx tsx examples/secure-client.ts [wss://localhost:8443]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { WebSocket } from '../src/index.ts';
import { CERT_FILE } from './secure-server.ts';

/** Connects, sends one message, and resolves with the messages received before closing. */
export function talkSecurely(url: string, message = 'hello over TLS'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const received: string[] = [];
    // `ca` replaces the system's trusted roots for this connection: only our certificate is trusted.
    const ws = new WebSocket(url, { ca: readFileSync(CERT_FILE) });
    ws.on('open', () => ws.send(message));
    ws.on('message', (data: Buffer) => {
      received.push(data.toString());
      if (received.length === 2) ws.close(1000, 'done'); // the welcome, then the echo
    });
    ws.on('error', reject);
    ws.on('close', (code: number) =>
      code === 1000 ? resolve(received) : reject(new Error(`closed ${code}`)),
    );
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2] ?? 'wss://localhost:8443';
  try {
    for (const message of await talkSecurely(url)) console.log(`< ${message}`);
  } catch (error) {
    console.error(`failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
