// When a queued run may start: the rule that makes a wave run each task once, in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QueuedRun } from '../../src/catalog/catalog-store.ts';
import { TaskGraph } from '../../src/graph/index.ts';
import type { RunStatus, TaskDef } from '../../src/model/index.ts';
import { RunReadiness } from '../../src/orchestrator/run-readiness.ts';

/** A → B, A → C, B + C → D, and an unrelated E. */
function diamond(): TaskGraph {
  const task = (name: string, target: string, reads: string[]) => ({
    task: { name, target } as TaskDef,
    reads,
  });
  const tasks = [
    task('a', 'x.a', []),
    task('b', 'x.b', ['x.a']),
    task('c', 'x.c', ['x.a']),
    task('d', 'x.d', ['x.b', 'x.c']),
    task('e', 'x.e', []),
  ];
  return TaskGraph.fromDefinitions(
    tasks.map((entry) => entry.task),
    (definition) => tasks.find((entry) => entry.task.name === definition.name)!.reads,
  );
}

function entry(id: string, task: string, status: RunStatus, notBefore?: string): QueuedRun {
  return {
    run: { id, task, status, attempt: 1, trigger: 'manual', queuedAt: `2026-01-01T00:00:0${id.length}.000Z` },
    queue: { cancelRequested: false, downstream: true, ...(notBefore ? { notBefore } : {}) },
  };
}

const NOW = Date.parse('2026-01-01T00:00:10.000Z');

describe('RunReadiness', () => {
  test('the join of a diamond waits while either branch is queued or running', () => {
    const readiness = new RunReadiness(diamond());
    const queued = [entry('r1', 'b', 'running'), entry('r2', 'c', 'queued'), entry('r3', 'd', 'queued')];
    assert.equal(readiness.choose(queued, NOW).runId, 'r2', 'c may start beside b; d may not');
    assert.equal(
      readiness.choose([entry('r1', 'b', 'running'), entry('r3', 'd', 'queued')], NOW).runId,
      undefined,
    );
    assert.equal(readiness.choose([entry('r3', 'd', 'queued')], NOW).runId, 'r3');
  });

  test('a transitive upstream task counts too, and unrelated tasks are not held up', () => {
    const readiness = new RunReadiness(diamond());
    const active = [entry('r1', 'a', 'queued'), entry('r2', 'd', 'queued'), entry('r3', 'e', 'queued')];
    assert.equal(readiness.choose(active, NOW).runId, 'r1');
    assert.equal(readiness.choose(active.slice(1), NOW).runId, 'r2');
    assert.equal(readiness.choose([entry('r1', 'a', 'running'), ...active.slice(1)], NOW).runId, 'r3');
  });

  test('the same task never starts while it runs, and busy tasks count as running', () => {
    const readiness = new RunReadiness(diamond());
    assert.equal(
      readiness.choose([entry('r1', 'e', 'running'), entry('r2', 'e', 'queued')], NOW).runId,
      undefined,
    );
    assert.equal(readiness.choose([entry('r2', 'e', 'queued')], NOW, new Set(['e'])).runId, undefined);
    assert.equal(readiness.choose([entry('r2', 'd', 'queued')], NOW, new Set(['b'])).runId, undefined);
  });

  test('a run waits for its notBefore, and the earliest such time is reported', () => {
    const readiness = new RunReadiness(diamond());
    const later = entry('r1', 'e', 'queued', '2026-01-01T00:00:12.000Z');
    const sooner = entry('r2', 'b', 'queued', '2026-01-01T00:00:11.000Z');
    assert.deepEqual(readiness.choose([later, sooner], NOW), {
      nextDueAt: Date.parse('2026-01-01T00:00:11.000Z'),
    });
    assert.equal(readiness.choose([later, sooner], Date.parse('2026-01-01T00:00:11.500Z')).runId, 'r2');
  });
});
