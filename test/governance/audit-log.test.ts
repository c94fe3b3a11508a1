import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newAuditId, redactStoragePaths } from '../../src/governance/index.ts';

test('audit ids sort by arrival, also within one millisecond', () => {
  const sameMillisecond = new Date('2026-11-26T10:00:00.123Z');
  const ids = Array.from({ length: 50 }, () => newAuditId(sameMillisecond));
  const later = newAuditId(new Date('2026-11-26T10:00:00.124Z'));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => id < later));
});

test('audit reasons name no storage path', () => {
  assert.equal(
    redactStoragePaths('No files found that match /srv/warehouse/clinical/x.parquet', ['/srv/warehouse']),
    'No files found that match <storage>/clinical/x.parquet',
  );
});
