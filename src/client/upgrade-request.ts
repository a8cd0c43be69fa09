/**
 * The HTTP/1.1 request of one handshake attempt (RFC 6455 §4.1), as options for Node's
 * `http.request()`: the head is built (and checked) by the pure core, then handed over field by field.
 */
import type { RequestOptions } from 'node:http';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { buildUpgradeRequest } from '../handshake/client.ts';
import type { ClientOffer } from './handshake.ts';
import type { ClientOptions } from './options.ts';
import type { Hop } from './redirect.ts';
import { urlPort } from './target.ts';
import { tlsOptionsFor } from './transport.ts';

/**
 * The `http.request()` options for one attempt to `hop` with the `Sec-WebSocket-Key` `key`.
 * @param createConnection - Opens the connection when no `agent` is given.
 * @throws {TypeError} from buildUpgradeRequest for a header, path or origin that cannot be sent.
 */
export function upgradeRequestOptions(
  hop: Hop,
  key: string,
  offer: ClientOffer,
  options: ClientOptions,
  createConnection: RequestOptions['createConnection'],
): RequestOptions & TlsConnectionOptions {
  const { target } = hop;
  const head = buildUpgradeRequest({
    host: hop.host ?? target.hostHeader,
    path: target.path,
    key,
    protocols: offer.protocols,
    ...(offer.extensionOffer === undefined ? {} : { extensions: offer.extensionOffer }),
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.protocolVersion === 8 ? { version: 8 as const } : {}),
    ...(hop.headers === undefined ? {} : { headers: hop.headers }),
  });
  const requestOptions: RequestOptions & TlsConnectionOptions & { readonly keepAlive?: undefined } = {
    // Other net and tls options (`lookup`, `minVersion`, `ciphers`…) reach the connection, as in `ws`.
    ...(options as RequestOptions & TlsConnectionOptions),
    ...(target.secure ? tlsOptionsFor(target, options) : {}),
    method: 'GET',
    protocol: target.secure ? 'https:' : 'http:',
    host: target.host,
    hostname: undefined,
    // Node takes the port as a string too (as `ws` passes it: the URL's text).
    port: urlPort(hop.url, target) as number,
    path: target.path,
    socketPath: target.socketPath,
    headers: headerFields(head),
    setHost: false,
    auth: undefined,
    timeout: undefined,
    // Our `keepAlive` is the WebSocket heartbeat, not net's TCP keep-alive flag of the same name.
    keepAlive: undefined,
    agent: options.agent,
    createConnection: options.agent !== undefined ? undefined : createConnection,
  };
  return requestOptions;
}

/**
 * The header fields of a request head built by buildUpgradeRequest, for `http.request`: an object
 * (not raw pairs, which Node sends at once), so that `finishRequest` and 'redirect' listeners can
 * still read and change them; a name given twice (in two cases) keeps both values.
 */
function headerFields(head: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    const first = names.get(name.toLowerCase());
    if (first === undefined) {
      names.set(name.toLowerCase(), name);
      fields[name] = value;
    } else {
      fields[first] = [...[fields[first]!].flat(), value];
    }
  }
  return fields;
}
