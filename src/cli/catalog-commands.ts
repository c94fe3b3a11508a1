import type { Command } from 'commander';
import { describeType } from '../catalog/schema-diff.ts';
import type { CheckResult, LineageEdge, Run, TableRecord, Version } from '../model/index.ts';
import { globalOptions, print, withCatalog, withPlatform } from './cli-context.ts';
import { textTable } from './output-format.ts';

/** Discovery: `tables`, `show`, `versions`, `lineage`. */
export function registerCatalogCommands(program: Command): void {
  program
    .command('tables')
    .description('list the catalog')
    .option('--search <text>', 'only tables whose name, description, owner or columns contain this')
    .action(async (flags: { search?: string }, command: Command) => {
      const options = globalOptions(command);
      await withCatalog(options, async (catalog) => {
        const tables = await catalog.tables(flags.search);
        print(options, tables, () =>
          textTable(
            ['table', 'owner', 'version', 'description'],
            tables.map((table) => [
              table.name,
              table.owner,
              String(table.currentVersion ?? '-'),
              table.description ?? '',
            ]),
          ),
        );
      });
    });

  program
    .command('show')
    .description("a table's description, owner, schema, current version and latest checks")
    .argument('<table>')
    .action(async (name: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withCatalog(options, async (catalog) => {
        const { table, current, failedRun } = await catalog.table(name);
        const { health, reason } = await catalog.tableHealth(name);
        print(
          options,
          { ...table, current, health: { health, reason }, ...(failedRun ? { failedRun } : {}) },
          () => formatTable(table, current, `${health} (${reason})`, failedRun),
        );
      });
    });

  program
    .command('check')
    .description("run a table's validations against its current version, publishing nothing")
    .argument('<table>')
    .action(async (name: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const { version, checks } = await platform.check(name);
        print(options, { table: name, version: version.version, checks }, () =>
          [`${name} version ${version.version}:`, ...checks.flatMap(checkLines)].join('\n'),
        );
        if (checks.some((check) => !check.success && check.severity === 'error')) process.exitCode = 1;
      });
    });

  program
    .command('versions')
    .description("a table's versions, newest first")
    .argument('<table>')
    .action(async (name: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withCatalog(options, async (catalog) => {
        const versions = await catalog.versions(name);
        print(options, versions, () =>
          textTable(
            ['version', 'published', 'rows', 'bytes', 'schema', 'run', 'upstream', 'checks'],
            versions.map((version) => [
              String(version.version),
              version.publishedAt,
              String(version.rowCount),
              String(version.bytes),
              `v${version.schemaVersion}`,
              version.runId,
              version.upstream.map((ref) => `${ref.table}@${ref.version}`).join(' '),
              checkSummary(version.checks),
            ]),
          ),
        );
      });
    });

  program
    .command('lineage')
    .description("a table's upstream and downstream tables (or columns)")
    .argument('<table>')
    .option('--upstream', 'only upstream')
    .option('--downstream', 'only downstream')
    .option('--columns', 'column-level lineage')
    .action(
      async (
        name: string,
        flags: { upstream?: boolean; downstream?: boolean; columns?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        await withCatalog(options, async (catalog) => {
          const lineage = await catalog.lineage(name, flags);
          const { upstream, downstream } = lineage;
          const both = !flags.upstream && !flags.downstream;
          print(options, lineage, () =>
            [
              ...(flags.upstream || both ? ['upstream:', ...formatEdges(upstream)] : []),
              ...(flags.downstream || both ? ['downstream:', ...formatEdges(downstream)] : []),
            ].join('\n'),
          );
        });
      },
    );
}

function formatEdges(edges: LineageEdge[]): string[] {
  if (edges.length === 0) return ['  (none)'];
  return edges.map((edge) =>
    edge.fromColumn
      ? `  ${edge.fromTable}.${edge.fromColumn} → ${edge.toTable}.${edge.toColumn} (${edge.task})`
      : `  ${edge.fromTable} → ${edge.toTable} (${edge.task})`,
  );
}

function formatTable(
  table: TableRecord,
  current: Version | undefined,
  health: string,
  failedRun: Run | undefined,
): string {
  const lines = [
    table.name,
    `  owner:       ${table.owner}`,
    `  health:      ${health}`,
    `  description: ${table.description ?? ''}`,
    `  schema:      v${table.schemaVersion}`,
    ...(table.gitCommit ? [`  commit:      ${table.gitCommit}`] : []),
    `  version:     ${current ? `${current.version} (${current.rowCount} rows, published ${current.publishedAt})` : 'none published yet'}`,
    '',
    textTable(
      ['column', 'type', 'null', 'sensitivity', 'mask', 'description'],
      table.fields.map((field) => [
        field.name + (field.primaryKey ? ' (pk)' : ''),
        describeType(field.type),
        field.nullable ? 'yes' : 'no',
        field.sensitivity ?? '',
        field.mask ?? '',
        field.description ?? '',
      ]),
    ),
  ];
  if (current && current.checks.length > 0) {
    lines.push('', 'checks on the current version:', ...current.checks.flatMap(checkLines));
  }
  if (failedRun?.checks) {
    lines.push(
      '',
      `checks of the latest run, ${failedRun.id} (failed ${failedRun.finishedAt ?? failedRun.queuedAt}):`,
      ...failedRun.checks.flatMap(checkLines),
    );
  }
  return lines.join('\n');
}

/** `  FAIL  expect…(column): 2 unexpected`, then its sampled unexpected values when it has some. */
function checkLines(check: CheckResult): string[] {
  const line = `  ${check.success ? 'pass' : check.severity === 'warn' ? 'WARN' : 'FAIL'}  ${checkLabel(check)}`;
  const sample = check.expectation === 'bad_rows' ? [] : (check.sample ?? []);
  if (sample.length === 0) return [line];
  const all = check.unexpectedCount === undefined || check.unexpectedCount <= sample.length;
  const values = sample.map((value) => JSON.stringify(value) ?? 'null').join(', ');
  return [line, `        ${all ? 'unexpected' : `first ${sample.length} unexpected`}: ${values}`];
}

function checkLabel(check: CheckResult): string {
  const column = typeof check.args.column === 'string' ? `(${check.args.column})` : '';
  const detail =
    check.error ??
    (check.unexpectedCount !== undefined
      ? `${check.unexpectedCount} unexpected`
      : `observed ${JSON.stringify(check.observedValue)}`);
  return `${check.expectation}${column}: ${detail}`;
}

function checkSummary(checks: CheckResult[]): string {
  const failed = checks.filter((check) => !check.success).length;
  return `${checks.length - failed}/${checks.length} passed`;
}
