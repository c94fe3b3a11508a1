import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskGraph } from '../../src/graph/index.ts';
import type { TaskDef } from '../../src/model/index.ts';

/** name → [target, tables read] */
function graph(tasks: Record<string, [string, string[]]>): TaskGraph {
  const definitions = Object.entries(tasks).map(([name, [target]]): TaskDef => ({
    name,
    type: 'projection',
    target,
    mode: 'replace',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 30_000 },
    dependsOn: [],
    at: { file: 'tasks.yaml', line: 1, column: 1 },
  }));
  return TaskGraph.fromDefinitions(definitions, (task) => tasks[task.name]![1]);
}

describe('TaskGraph', () => {
  // ingest_a ──raw.a──► build_b ──mart.b──► build_d
  //        └──raw.a──► build_c ──mart.c──┘
  const diamond = () =>
    graph({
      build_d: ['mart.d', ['mart.c', 'mart.b']],
      build_c: ['mart.c', ['raw.a']],
      build_b: ['mart.b', ['raw.a']],
      ingest_a: ['raw.a', []],
    });

  it('orders a diamond by dependency with an alphabetical tie-break', () => {
    const g = diamond();
    assert.deepEqual(g.topologicalOrder(), ['ingest_a', 'build_b', 'build_c', 'build_d']);
    assert.deepEqual(g.topologicalOrder(['build_d', 'ingest_a']), ['ingest_a', 'build_d']);
    assert.deepEqual(g.findCycles(), []);
  });

  it('answers producers, consumers and direct upstream tables', () => {
    const g = diamond();
    assert.equal(g.producerOf('mart.b'), 'build_b');
    assert.equal(g.producerOf('external.x'), undefined);
    assert.deepEqual(g.consumersOf('raw.a'), ['build_b', 'build_c']);
    assert.deepEqual(g.consumersOf('mart.d'), []);
    assert.deepEqual(g.upstreamTables('build_d'), ['mart.b', 'mart.c']);
    assert.equal(g.targetOf('build_c'), 'mart.c');
    assert.deepEqual(g.taskNames, ['build_b', 'build_c', 'build_d', 'ingest_a']);
    assert.deepEqual(g.tableNames, ['mart.b', 'mart.c', 'mart.d', 'raw.a']);
  });

  it('follows the graph downstream and upstream, transitively and in dependency order', () => {
    const g = diamond();
    assert.deepEqual(g.downstreamTasks('ingest_a'), ['build_b', 'build_c', 'build_d']);
    assert.deepEqual(g.downstreamTasks('build_c'), ['build_d']);
    assert.deepEqual(g.downstreamTasks('build_d'), []);
    assert.deepEqual(g.upstreamTasks('build_d'), ['ingest_a', 'build_b', 'build_c']);
    assert.deepEqual(g.downstreamTables('raw.a'), ['mart.b', 'mart.c', 'mart.d']);
    assert.deepEqual([...g.derivedTables('raw.a')].sort(), ['mart.b', 'mart.c', 'mart.d']);
    assert.deepEqual([...g.derivedTables('mart.d')], []);
    assert.deepEqual(g.upstreamTablesOf('mart.d'), ['raw.a', 'mart.b', 'mart.c']);
    assert.deepEqual(g.upstreamTablesOf('raw.a'), []);
  });

  it('treats tables no task produces as sources', () => {
    const g = graph({ build_x: ['mart.x', ['external.feed', 'raw.y']], ingest_y: ['raw.y', []] });
    assert.deepEqual(g.topologicalOrder(), ['ingest_y', 'build_x']);
    assert.deepEqual(g.upstreamTablesOf('mart.x'), ['external.feed', 'raw.y']);
    assert.deepEqual(g.downstreamTasks('ingest_y'), ['build_x']);
  });

  it('finds each cycle once, in data-flow order, including self-loops', () => {
    const g = graph({
      c: ['t.c', ['t.b']],
      b: ['t.b', ['t.a']],
      a: ['t.a', ['t.c', 't.source']],
      self: ['t.self', ['t.self']],
      after: ['t.after', ['t.c']],
      source: ['t.source', []],
    });
    assert.deepEqual(g.findCycles(), [['a', 'b', 'c'], ['self']]);
    // Still lists every task once: the cycle together, after what it reads, before what reads it.
    assert.deepEqual(g.topologicalOrder(), ['self', 'source', 'a', 'b', 'c', 'after']);
  });

  it('reports the shortest loop of a larger strongly connected component', () => {
    const g = graph({
      a: ['t.a', ['t.c']],
      b: ['t.b', ['t.a']],
      c: ['t.c', ['t.b', 't.d']],
      d: ['t.d', ['t.c']],
    });
    assert.deepEqual(g.findCycles(), [['a', 'b', 'c']]);
  });

  it('gives the same order whatever order the tasks are declared in', () => {
    const forward = diamond().topologicalOrder();
    const reversed = graph({
      ingest_a: ['raw.a', []],
      build_b: ['mart.b', ['raw.a']],
      build_c: ['mart.c', ['raw.a']],
      build_d: ['mart.d', ['mart.b', 'mart.c']],
    }).topologicalOrder();
    assert.deepEqual(reversed, forward);
  });
});
