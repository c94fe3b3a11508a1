import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const CACHE = '.tessera/cache/definitions.json';

const PROTO = `syntax = "proto3";
package shop;
message Order {
  string order_id = 1;
  double amount = 2;
}
`;

const TABLES = `kind: table
name: raw.orders
owner: clinical-data
schema: schemas/shop.proto#shop.Order
---
kind: table
name: mart.totals
owner: clinical-data
description: Totals.
`;

const TASKS = `kind: task
name: ingest_orders
type: ingestion
target: raw.orders
source: { type: csv, uri: orders.csv }
---
kind: task
name: build_totals
type: projection
target: mart.totals
sql: sql/totals.sql
`;

const TOTALS_SQL = 'select order_id, sum(amount) as amount\nfrom raw.orders\ngroup by order_id\n';

async function cleanRepo(): Promise<string> {
  return writeCatalogRepo({
    'owners/clinical-data.yaml': OWNER_YAML,
    'schemas/shop.proto': PROTO,
    'tables/tables.yaml': TABLES,
    'tasks/tasks.yaml': TASKS,
    'sql/totals.sql': TOTALS_SQL,
  });
}

describe('definitions cache', () => {
  it('a warm load reports exactly what a load without the cache reports, diagnostics and positions included', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'schemas/shop.proto': PROTO,
      // An unknown owner (checked across files) in the second document, and a shape error.
      'tables/tables.yaml': TABLES.replace(
        'name: mart.totals\nowner: clinical-data',
        'name: mart.totals\nowner: nobody',
      ),
      'tables/broken.yaml': 'kind: table\nname: raw.broken\nowner: clinical-data\nretention: forever\n',
      'tasks/tasks.yaml': TASKS,
      'sql/totals.sql': 'select order_id\nfrom raw.orders join raw.missing using (order_id)\n',
    });
    const uncached = await loadDefinitions(root, { cache: false });
    const cold = await loadDefinitions(root);
    const warm = await loadDefinitions(root);
    assert.deepEqual(formatted(uncached.diagnostics), [
      'sql/totals.sql:2:22: error unknown-table: task build_totals: SQL reads `raw.missing`, which is not a declared table',
      'tables/broken.yaml:4:12: error invalid-type: table raw.broken: `retention` must be a map, not a string',
      'tables/tables.yaml:8:8: error missing-owner: table mart.totals: owner `nobody` is not declared; add a `kind: owner` document named nobody',
    ]);
    assert.deepEqual(formatted(cold.diagnostics), formatted(uncached.diagnostics));
    assert.deepEqual(formatted(warm.diagnostics), formatted(uncached.diagnostics));
    assert.deepEqual(warm.diagnostics, uncached.diagnostics);
    assert.deepEqual(warm.definitions, uncached.definitions);
    assert.equal((await stat(join(root, CACHE))).mode & 0o777, 0o600);
    assert.equal((await stat(join(root, '.tessera/cache/parses.tsv'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(root, '.tessera/cache'))).mode & 0o777, 0o700);
  });

  it('an edited YAML file reports its new error on the next load, and fixing it clears it', async () => {
    const root = await cleanRepo();
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), []);
    await writeFile(
      join(root, 'tables/tables.yaml'),
      TABLES.replace('name: mart.totals\nowner: clinical-data', 'name: mart.totals\nowner: clinical-dta'),
    );
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), [
      'tables/tables.yaml:8:8: error missing-owner: table mart.totals: owner `clinical-dta` is not declared (did you mean `clinical-data`?); add a `kind: owner` document named clinical-dta',
    ]);
    await writeFile(join(root, 'tables/tables.yaml'), TABLES);
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), []);
  });

  it('a cached file points its diagnostics at the right keys when another file breaks it', async () => {
    const root = await cleanRepo();
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), []);
    // tables.yaml is unchanged (a cache hit); renaming the owner it names breaks both its documents.
    await writeFile(join(root, 'owners/clinical-data.yaml'), 'kind: owner\nname: shop-data\n');
    assert.deepEqual(
      (await loadDefinitions(root)).diagnostics.map(
        ({ code, at }) => `${at.file}:${at.line}:${at.column} ${code}`,
      ),
      ['tables/tables.yaml:3:8 missing-owner', 'tables/tables.yaml:8:8 missing-owner'],
    );
  });

  it('an edited SQL file is parsed again: a table it now reads is checked, and the fix is seen', async () => {
    const root = await cleanRepo();
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), []);
    await writeFile(join(root, 'sql/totals.sql'), 'select order_id\nfrom raw.orderz\n');
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), [
      'sql/totals.sql:2:6: error unknown-table: task build_totals: SQL reads `raw.orderz`, which is not a declared table (did you mean `raw.orders`?)',
    ]);
    await writeFile(join(root, 'sql/totals.sql'), TOTALS_SQL);
    const fixed = await loadDefinitions(root);
    assert.deepEqual(formatted(fixed.diagnostics), []);
    assert.equal(fixed.definitions.tasks.find((task) => task.name === 'build_totals')?.sql, TOTALS_SQL);
  });

  it('a .proto file is read again when it or a file it imports changes', async () => {
    const root = await cleanRepo();
    await writeFile(
      join(root, 'schemas/shop.proto'),
      PROTO.replace('package shop;', 'package shop;\nimport "money.proto";').replace(
        'double amount = 2;',
        'Money amount = 2;',
      ),
    );
    await writeFile(
      join(root, 'schemas/money.proto'),
      'syntax = "proto3";\npackage shop;\nmessage Money {\n  double value = 1;\n}\n',
    );
    // The projection follows: it is bound against the struct (`sum` of a struct is a type error).
    await writeFile(join(root, 'sql/totals.sql'), 'select sum(amount.value) as total from raw.orders\n');
    const columns = async () => {
      const loaded = await loadDefinitions(root);
      assert.deepEqual(formatted(loaded.diagnostics), []);
      const orders = loaded.definitions.tables.find((table) => table.name === 'raw.orders');
      const amount = orders?.schema?.fields.find((field) => field.name === 'amount');
      return amount?.type.kind === 'struct' ? amount.type.fields.map((field) => field.name) : [];
    };
    assert.deepEqual(await columns(), ['value']);
    // Only the imported file changes: the importing file's schema must follow.
    await writeFile(
      join(root, 'schemas/money.proto'),
      'syntax = "proto3";\npackage shop;\nmessage Money {\n  double value = 1;\n  string currency = 2;\n}\n',
    );
    assert.deepEqual(await columns(), ['value', 'currency']);
    await writeFile(
      join(root, 'schemas/money.proto'),
      'syntax = "proto3";\npackage shop;\nmessage Money {\n  double value = 1\n}\n',
    );
    assert.deepEqual(
      (await loadDefinitions(root)).diagnostics.map(({ code, at }) => `${at.file}:${at.line} ${code}`),
      ['schemas/money.proto:5 proto-parse'],
    );
  });

  it('a corrupt cache is ignored and rebuilt, never trusted', async () => {
    const root = await cleanRepo();
    await loadDefinitions(root);
    const valid = await readFile(join(root, CACHE), 'utf8');
    // An entry edited without its checksum: the owner the cached table names is changed.
    await writeFile(join(root, CACHE), valid.replaceAll('"owner":"clinical-data"', '"owner":"nobody"'));
    const tampered = await loadDefinitions(root);
    assert.deepEqual(formatted(tampered.diagnostics), []);
    assert.deepEqual(
      tampered.definitions.tables.map((table) => table.owner),
      ['clinical-data', 'clinical-data'],
    );
    // A torn file, then a foreign one.
    await writeFile(join(root, CACHE), valid.slice(0, valid.length / 2));
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), []);
    await writeFile(join(root, CACHE), valid.replace('"version":1', '"version":999'));
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), []);
    assert.equal(await readFile(join(root, CACHE), 'utf8'), valid);
  });

  it('keeps each Def as validated: the schema resolved from its .proto file is not cached with it', async () => {
    const root = await cleanRepo();
    const loaded = await loadDefinitions(root);
    const orders = loaded.definitions.tables.find((table) => table.name === 'raw.orders');
    assert.deepEqual(
      orders?.schema?.fields.map((field) => field.name),
      ['order_id', 'amount'],
    );
    const cached = await readFile(join(root, CACHE), 'utf8');
    assert.match(cached, /"schemaRef":"schemas\/shop\.proto#shop\.Order"/);
    assert.doesNotMatch(cached.slice(0, cached.indexOf('"protos"')), /"fields"/);
  });

  it('SQL read ahead for a task that turns out broken is not kept; SQL the guess misses is still read', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'schemas/shop.proto': PROTO,
      'tables/tables.yaml': TABLES,
      'tasks/tasks.yaml': TASKS,
      // A flow map the read-ahead does not guess from, and a task whose type is misspelled.
      'tasks/flow.yaml':
        '{ kind: task, name: build_flow, type: projection, target: mart.flow, sql: sql/flow.sql }\n---\nkind: task\nname: build_broken\ntype: projektion\ntarget: mart.totals\nsql: sql/broken.sql\n',
      'tables/flow.yaml': 'kind: table\nname: mart.flow\nowner: clinical-data\n',
      'sql/totals.sql': TOTALS_SQL,
      'sql/flow.sql': 'select order_id from mart.totals\n',
      'sql/broken.sql': 'select 1 as broken\n',
    });
    const loaded = await loadDefinitions(root);
    assert.deepEqual(
      loaded.diagnostics.map(({ code, at }) => `${at.file}:${at.line}:${at.column} ${code}`),
      ['tasks/flow.yaml:5:7 invalid-value'],
    );
    assert.equal(
      loaded.definitions.tasks.find((task) => task.name === 'build_flow')?.sql,
      'select order_id from mart.totals\n',
    );
    const parsesFile = join(root, '.tessera/cache/parses.tsv');
    const parses = await readFile(parsesFile, 'utf8');
    const lines = parses.split('\n').slice(1, -1);
    assert.equal(lines.length, 2, 'the parses of totals.sql and flow.sql, not broken.sql');
    assert.doesNotMatch(parses, /broken/);
    for (const line of lines) {
      const [key, analysis, ast, ...rest] = line.split('\t');
      assert.match(key!, /^[0-9a-f]{64}$/);
      assert.ok(Array.isArray((JSON.parse(analysis!) as { tables: unknown }).tables));
      assert.equal(typeof JSON.parse(ast!), 'object');
      assert.deepEqual(rest, []);
    }
    // Read back whole: an unchanged repo loads from it and leaves the file as it was.
    const written = await stat(parsesFile);
    assert.deepEqual(formatted((await loadDefinitions(root)).diagnostics), formatted(loaded.diagnostics));
    const after = await stat(parsesFile);
    assert.deepEqual([after.ino, after.mtimeMs], [written.ino, written.mtimeMs]);
  });

  it('a file that uses ${VARIABLES} is never cached: a changed environment is seen', async () => {
    const root = await cleanRepo();
    await writeFile(
      join(root, 'tables/tables.yaml'),
      TABLES.replace('owner: clinical-data', 'owner: ${TABLE_OWNER}'),
    );
    const first = await loadDefinitions(root, { env: { TABLE_OWNER: 'clinical-data' } });
    assert.deepEqual(formatted(first.diagnostics), []);
    const second = await loadDefinitions(root, { env: { TABLE_OWNER: 'somebody' } });
    assert.deepEqual(
      second.diagnostics.map(
        (diagnostic) => `${diagnostic.code} ${diagnostic.at.line}:${diagnostic.at.column}`,
      ),
      ['missing-owner 3:8'],
    );
    assert.doesNotMatch(await readFile(join(root, CACHE), 'utf8'), /somebody|TABLE_OWNER/);
  });
});
