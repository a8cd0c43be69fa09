export { type ClientOptions, connectClient } from './connect.ts';
