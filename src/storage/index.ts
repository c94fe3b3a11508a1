export type { Storage } from './storage.ts';
export { LocalFileStorage } from './local-file-storage.ts';
export { openStorage } from './open-storage.ts';
