import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { FileAccessError, UsageError } from '../diagnostics/errors.ts';
import type { Platform } from '../platform.ts';
import { formatRows, textTable } from './output-format.ts';
import { formatRuns } from './run-commands.ts';

const DEMO_QUERY = `select state,
       count(*) as patients,
       sum(encounters) as encounters,
       round(avg(encounter_cost), 2) as avg_cost_per_patient,
       sum(paid_claims) as paid_claims
from analytics.patient_summary
group by state
order by patients desc
limit 5`;

/** `init` and `demo`. */
export function registerDemoCommands(program: Command): void {
  program
    .command('init')
    .description('write a small blank catalog repo to DIR, or with --example a complete one')
    .argument('<dir>', 'a new folder, or one without catalog files (e.g. `.`)')
    .option('--example <name>', 'start from an example instead: healthcare')
    .option('--rows <n>', 'patients to generate for the example (default 10000)')
    .action(async (dir: string, flags: { example?: string; rows?: string }) => {
      if (flags.example === undefined) {
        if (flags.rows !== undefined)
          throw new UsageError('--rows is for --example healthcare; a blank repo has its own sample CSV');
        const { Platform } = await import('../platform.ts');
        await Platform.writeBlankRepo(resolve(dir));
        console.log(
          `wrote a blank catalog repo to ${dir}: owners/, schemas/, tables/, tasks/, sql/, access/ and data/orders.csv
` +
            `next: cd ${dir} && tessera validate && tessera apply && tessera run --all && tessera query "select * from shop.daily_revenue"
` +
            'editors: its YAML files name the JSON Schemas in json-schemas/ (VS Code: install the YAML extension)',
        );
        return;
      }
      if (flags.example !== 'healthcare')
        throw new UsageError(
          `unknown example ${flags.example}; available: healthcare (or none: a blank repo)`,
        );
      const target = resolve(dir);
      if (existsSync(target)) throw new UsageError(`${dir} already exists; choose a new folder`);
      const { Platform } = await import('../platform.ts');
      await Platform.writeExample(target, parseRows(flags.rows ?? '10000'));
      console.log(
        `wrote the healthcare example catalog repo to ${dir}\nnext: cd ${dir} && tessera validate && tessera apply && tessera run --all\n` +
          'editors: its YAML files name the JSON Schemas in json-schemas/ (VS Code: install the YAML extension)',
      );
    });

  program
    .command('demo')
    .description('the healthcare example end to end on the embedded defaults (DuckDB, Parquet files, SQLite)')
    .option('--dir <dir>', 'where to write the example repo (replaced if it exists)', '.tessera/demo')
    .option('--rows <n>', 'patients to generate', '10000')
    .action(async (flags: { dir: string; rows: string }) => {
      const target = resolve(flags.dir);
      const rows = parseRows(flags.rows);
      await rm(target, { recursive: true, force: true }).catch((error: unknown) => {
        throw cannotWrite(target, error);
      });
      console.log(`1. writing the healthcare example with ${rows} synthetic patients to ${flags.dir}`);
      const { Platform } = await import('../platform.ts');
      await Platform.writeExample(target, rows);
      const platform = await Platform.open({ repo: target });
      try {
        console.log('2. tessera apply');
        const plan = await platform.apply();
        console.log(`   registered ${plan.tables.added.length} tables and ${plan.tasks.added.length} tasks`);
        console.log('3. tessera run --all');
        const started = Date.now();
        const told: string[] = [];
        const runs = await platform.run({ tasks: [], all: true }, undefined, {
          writeConsole: (text) => void told.push(text),
        });
        console.log(indent(formatRuns(runs)));
        for (const text of told) console.log(`   notified: ${notificationTitle(text)}`);
        console.log(`   ${runs.length} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        console.log(`4. tessera query "${DEMO_QUERY.split('\n')[0]} …"`);
        console.log(indent(formatRows(await platform.query(DEMO_QUERY, {}), 'table')));
        const failed = runs.filter((run) => run.status !== 'succeeded');
        if (failed.length > 0) process.exitCode = 1;
        await showMonitoring(platform, target);
        const repo = relative(process.cwd(), target) || '.';
        console.log(
          `\nexplore: npx tessera --repo ${repo} tables | show clinical.patients | lineage analytics.state_summary | runs | health | incidents`,
        );
      } finally {
        await platform.close();
      }
    });
}

/**
 * Monitoring, seen without any setup: an upstream renames a column of the patients file, the run
 * fails and the owners' `console` channels print what Slack, email or PagerDuty would carry; health
 * says which tables are affected; the fixed file recovers and resolves the incident.
 */
async function showMonitoring(platform: Platform, repo: string): Promise<void> {
  const source = join(repo, 'data/patients.csv');
  const original = await readFile(source, 'utf8');
  const newline = original.indexOf('\n');
  const renamed = original.slice(0, newline).replace('BIRTHDATE', 'DOB') + original.slice(newline);
  console.log(
    '5. a source breaks: data/patients.csv now calls its BIRTHDATE column DOB; tessera run ingest_patients',
  );
  await writeFile(source, renamed);
  const told: string[] = [];
  const tell = {
    writeConsole: (text: string) => void told.push(text),
    warn: (text: string) => void told.push(text),
  };
  const [broken] = await platform.run({ tasks: ['ingest_patients'] }, undefined, tell);
  console.log(
    `   ingest_patients ${broken?.status ?? 'did not run'}; its owners are told once (the console channel):`,
  );
  console.log(indent(told.join('\n').trimEnd()));
  console.log('6. tessera health');
  const health = await platform.health();
  console.log(
    indent(
      textTable(
        ['table', 'health', 'reason'],
        health
          .filter((entry) => entry.health !== 'healthy')
          .map((entry) => [entry.table, entry.health, entry.reason]),
      ),
    ),
  );
  console.log('7. the file is fixed; tessera run ingest_patients');
  await writeFile(source, original);
  told.length = 0;
  const [fixed] = await platform.run({ tasks: ['ingest_patients'] }, undefined, tell);
  const resolved = told.filter((text) => /Resolved: /.test(text)).length;
  console.log(
    `   ingest_patients ${fixed?.status ?? 'did not run'}; ${resolved} owner(s) told the incident is resolved`,
  );
}

/** The title line of a message the console channel printed. */
function notificationTitle(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.replace(/^[│┌└─\s]+/, '').trim())
      .find((line) => line.startsWith('[') || /^(Resolved|Reminder): /.test(line)) ?? text.trim()
  );
}

function cannotWrite(target: string, error: unknown): FileAccessError {
  return new FileAccessError(
    `cannot write the example to ${target}: ${(error as Error).message}; choose a folder you can write to`,
    { cause: error },
  );
}

function parseRows(text: string): number {
  const rows = Number(text);
  if (!Number.isInteger(rows) || rows < 10)
    throw new UsageError(`--rows must be a whole number of at least 10, not ${text}`);
  return rows;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}
