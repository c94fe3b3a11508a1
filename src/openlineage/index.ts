/** OpenLineage out: every run's START, COMPLETE and FAIL events POSTed to the configured receiver. */
import { createRequire } from 'node:module';
import type { Definitions } from '../model/index.ts';
import { LineageEmitter } from './lineage-emitter.ts';
import { producerOf, RunEventBuilder, type OpenLineageRunEvent } from './run-events.ts';

export {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  LineageEmitter,
  type LineageEmitterOptions,
} from './lineage-emitter.ts';
export {
  OPENLINEAGE_SCHEMA_URL,
  producerOf,
  redactUrl,
  RunEventBuilder,
  runUuid,
  sourceDataset,
  type OpenLineageDataset,
  type OpenLineageRunEvent,
} from './run-events.ts';

/** Tessera's version, for the events' `producer`. */
export function tesseraVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The emitter `tessera.yaml`'s `lineage.openlineage` asks for, or undefined when it asks none. */
export function openLineageEmitter(
  definitions: Definitions,
  options: {
    upstreamTables: (task: string) => string[];
    redact?: (event: OpenLineageRunEvent) => OpenLineageRunEvent;
    warn?: (message: string) => void;
  },
): LineageEmitter | undefined {
  const settings = definitions.project.lineage?.openlineage;
  if (!settings) return undefined;
  const builder = new RunEventBuilder(definitions, {
    namespace: settings.namespace,
    producer: producerOf(tesseraVersion()),
    upstreamTables: options.upstreamTables,
  });
  return new LineageEmitter({
    settings,
    builder,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
}
