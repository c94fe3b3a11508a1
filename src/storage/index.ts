export type { Storage } from './storage.ts';
export { LocalFileStorage } from './local-file-storage.ts';
export { openStorage, type StorageContext } from './open-storage.ts';
export { parseS3StorageUrl, S3FileStorage } from './s3-file-storage.ts';
export { describeS3Error, openS3Client } from './s3-client.ts';
export {
  PRIVATE_DIRECTORY_MODE,
  PRIVATE_FILE_MODE,
  makeFilePrivate,
  makePrivateDirectory,
} from './private-files.ts';
