// A node:test reporter that prints, once every file has run, each test file's time: the sum of its
// top-level tests' durations (the runner does not report a file's own wall time on Node 20),
// slowest first. `npm test` prints it after the spec output; the slowest files are the ones to
// split or speed up.
export default async function* fileDurations(source) {
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (!file || nesting !== 0) continue;
    const entry = files.get(file) ?? { ms: 0, failed: 0 };
    entry.ms += details?.duration_ms ?? 0;
    if (event.type === 'test:fail') entry.failed++;
    files.set(file, entry);
  }
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, entry]) => sum + entry.ms, 0);
  yield `\ntest time per file (sum of its top-level tests), slowest first; total ${(total / 1000).toFixed(1)} s\n`;
  for (const [file, entry] of rows) {
    const failed = entry.failed > 0 ? `  (${entry.failed} failed)` : '';
    yield `${(entry.ms / 1000).toFixed(1).padStart(8)} s  ${file.replace(`${process.cwd()}/`, '')}${failed}\n`;
  }
}
