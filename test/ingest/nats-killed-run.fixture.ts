// Runs `load_events` in a process of its own and kills that process (SIGKILL) at the first run log
// line matching the pattern given: a consumer dying mid-batch, before or after publication. It
// starts once a line arrives on stdin.
import { Platform } from '../../src/platform.ts';

const [repo, pattern] = process.argv.slice(2);
const killAt = new RegExp(pattern!);
// Loaded and ready: start when the test says so (a line on stdin), so start-up overlaps its work.
await new Promise((resolve) => process.stdin.once('data', resolve));
const platform = await Platform.open({ repo: repo! });
await platform.run({ tasks: ['load_events'] }, (line) => {
  if (killAt.test(line.message)) process.kill(process.pid, 'SIGKILL');
});
console.error('the run ended without reaching the line to be killed at');
process.exit(3);
