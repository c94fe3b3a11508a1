/** File ingestion: read CSV, JSON, NDJSON or Parquet files, conform them to a table's schema, write Parquet. */
export type { BadRow, IngestRequest, IngestResult, SensitiveValueHashing } from './ingest-request.ts';
export { ingestFiles } from './file-ingestion.ts';
export {
  sampleSource,
  MAX_SAMPLE_VALUES,
  type SampledColumn,
  type SampleSourceRequest,
  type SourceSample,
} from './source-sampling.ts';
export { sqlTypeOf } from './sql-type.ts';
export { globToRegExp } from './sources/s3-location.ts';
export {
  fingerprintObjectSource,
  sourceReaderFor,
  sourceReaderKey,
  type SourceReader,
  type SourceReadRequest,
  type StagedSource,
} from './sources/index.ts';
