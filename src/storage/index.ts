export type { Storage } from './storage.ts';
export { LocalFileStorage } from './local-file-storage.ts';
export { openStorage } from './open-storage.ts';
export {
  PRIVATE_DIRECTORY_MODE,
  PRIVATE_FILE_MODE,
  makeFilePrivate,
  makePrivateDirectory,
} from './private-files.ts';
