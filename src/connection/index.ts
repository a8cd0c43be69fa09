export {
  Connection,
  type ConnectionEvent,
  type ConnectionOptions,
  type ConnectionState,
  type Role,
} from './connection.ts';
