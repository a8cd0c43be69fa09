/** The client options passed through to `tls.connect` as they are (and that make a TLS connection distinct). */
export const USER_TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'passphrase',
  'rejectUnauthorized',
  'checkServerIdentity',
] as const;
