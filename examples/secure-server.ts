/**
 * A secure WebSocket server (wss://) with a self-signed certificate, and see secure-client.ts for a
 * client that trusts it through `ca`.
 *
 *   npx tsx examples/secure-server.ts          # wss://localhost:8443 (PORT overrides)
 *
 * It uses the committed test certificate (test/fixtures/localhost-cert.pem, for "localhost",
 * 127.0.0.1 and ::1). To make your own, valid for 10 years:
 *
 *   openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
 *     -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
 *     -keyout localhost-key.pem -out localhost-cert.pem
 *
 * and point CERT and KEY at the files. A self-signed certificate is its own CA: clients trust it by
 * passing it as `ca` (never by turning verification off with `rejectUnauthorized: false`).
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from '../src/index.ts';

export const CERT_FILE = process.env.CERT ?? new URL('../test/fixtures/localhost-cert.pem', import.meta.url);
export const KEY_FILE = process.env.KEY ?? new URL('../test/fixtures/localhost-key.pem', import.meta.url);

/** Starts the wss:// echo server; resolves once it listens. */
export async function startSecureServer(port = 8443, host = '127.0.0.1'): Promise<WebSocketServer> {
  const server = new WebSocketServer({
    port,
    host,
    tls: { cert: readFileSync(CERT_FILE), key: readFileSync(KEY_FILE) },
  });
  server.on('connection', (ws, request) => {
    ws.send(`welcome over TLS, you asked for ${request.url}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startSecureServer(Number(process.env.PORT ?? 8443));
  const { port } = server.address() as AddressInfo;
  console.log(`secure echo server on wss://localhost:${port}`);
  console.log(`Talk to it: npx tsx examples/secure-client.ts wss://localhost:${port}`);
  console.log(`       or: sockwire connect wss://localhost:${port} --ca test/fixtures/localhost-cert.pem`);
  process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
}
