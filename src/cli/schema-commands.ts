import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { UsageError } from '../diagnostics/errors.ts';
import type { InferSchemaResult } from '../platform/schema-inference.ts';
import { globalOptions, print } from './cli-context.ts';

interface InferFlags {
  table?: string;
  name?: string;
  query?: string;
  stream?: string;
  subject?: string;
  task?: string;
  format?: string;
  sample: string;
  owner?: string;
  out?: string;
  force?: boolean;
}

/** `schema export` (JSON Schemas for editors) and `schema infer` (a draft schema from a sample). */
export function registerSchemaCommands(program: Command): void {
  const schema = program
    .command('schema')
    .description('JSON Schemas for editors; a draft annotated schema from a sample of a source');

  schema
    .command('export')
    .description(
      'write one JSON Schema per kind, tessera-document.schema.json (any kind) and tessera.schema.json into DIR',
    )
    .argument('<dir>', 'the folder to write to (created if missing; files of the same names are replaced)')
    .action(async (dir: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const target = resolve(dir);
      const { Platform } = await import('../platform.ts');
      const files = await Platform.exportJsonSchemas(target);
      print(options, { dir: target, files }, () =>
        files.map((file) => `wrote ${join(dir, file)}`).join('\n'),
      );
    });

  schema
    .command('infer')
    .description(
      'sample a source and print a starting annotated .proto, table and ingestion task YAML, likely PHI flagged with a suggested mask',
    )
    .argument(
      '[source]',
      'a path or glob (csv, json, ndjson, parquet), s3://bucket/prefix/*.csv, postgres://… or mysql://… (with --table or --query), nats://… (with --stream and --subject)',
    )
    .option(
      '--table <table>',
      'database sources: the table read; other sources: the drafted table (ns.name), like --name',
    )
    .option('--query <sql>', 'database sources: the query read')
    .option('--stream <stream>', 'nats: the JetStream stream')
    .option('--subject <subject>', 'nats: the subject read from it')
    .option(
      '--task <name>',
      "sample an existing ingestion task's source (any type, kafka and salesforce included)",
    )
    .option(
      '--format <format>',
      'the file format when the extension does not say it: csv, json, ndjson, parquet',
    )
    .option('--sample <rows>', 'rows to sample', '10000')
    .option('--name <table>', 'the drafted table, namespace.name (default: from the file, table or stream)')
    .option('--owner <owner>', "the table's owner (default: the repo's only owner, else data-team)")
    .option(
      '--out <dir>',
      'write schemas/, tables/ and tasks/ files into this catalog repo instead of printing them',
    )
    .option('--force', 'with --out: replace files that exist')
    .action(async (source: string | undefined, flags: InferFlags, command: Command) => {
      const options = globalOptions(command);
      const sample = Number(flags.sample);
      if (!Number.isInteger(sample) || sample < 1)
        throw new UsageError(`--sample must be a positive whole number of rows, not ${flags.sample}`);
      if (source !== undefined && flags.task !== undefined)
        throw new UsageError('give a SOURCE or --task NAME, not both');
      const database = source !== undefined && /^(postgres|postgresql|mysql):\/\//i.test(source);
      const name = flags.name ?? (database ? undefined : flags.table);
      const { Platform } = await import('../platform.ts');
      const result = await Platform.inferSchema({
        repo: options.repo,
        ...(source !== undefined ? { source } : {}),
        ...(database && flags.table !== undefined ? { dbTable: flags.table } : {}),
        ...(flags.query !== undefined ? { query: flags.query } : {}),
        ...(flags.stream !== undefined ? { stream: flags.stream } : {}),
        ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
        ...(flags.task !== undefined ? { task: flags.task } : {}),
        ...(flags.format !== undefined ? { format: flags.format } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(flags.owner !== undefined ? { owner: flags.owner } : {}),
        ...(flags.out !== undefined ? { out: resolve(flags.out) } : {}),
        ...(flags.force ? { force: true } : {}),
        sample,
      });
      print(options, result, () => inferText(result, flags.out));
    });
}

function inferText(result: InferSchemaResult, out: string | undefined): string {
  const flagged = result.fields.filter((field) => field.phi);
  const summary = [
    `sampled ${result.rowsSampled} rows: ${result.fields.length} fields, ${flagged.length} flagged as likely PHI` +
      (result.primaryKey ? `, primary key guessed: ${result.primaryKey}` : ''),
    ...flagged.map(
      (field) => `  ${field.name}: ${field.phi!.category} (${field.phi!.reason}) → mask ${field.phi!.mask}`,
    ),
    ...result.notes.map((note) => `note: ${note}`),
  ];
  if (out !== undefined) {
    return [
      ...(result.written ?? []).map((file) => `wrote ${join(out, file)}`),
      ...summary,
      `next: review the files, then tessera validate && tessera apply && tessera run ${result.files.some((file) => file.path.startsWith('tasks/')) ? result.files.find((file) => file.path.startsWith('tasks/'))!.path.replace(/^tasks\/|\.yaml$/g, '') : ''}`.trimEnd(),
    ].join('\n');
  }
  return [
    ...result.files.flatMap((file) => [`# ---- ${file.path}`, file.text.trimEnd(), '']),
    ...summary.map((line) => `# ${line}`),
  ].join('\n');
}
