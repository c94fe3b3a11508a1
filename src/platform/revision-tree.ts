/**
 * Another Git revision of a catalog repo, written to a temporary folder so the normal loader can read
 * it. Reads the object database only (`git ls-tree`, `git cat-file --batch`): no checkout, no
 * worktree, no index, nothing written into the repo or its `.git`.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../diagnostics/errors.ts';

/**
 * Files larger than this are left out of the copy: definitions (YAML, .proto, SQL) are small, while
 * a repo may also keep sample data the loader never reads.
 */
const LARGEST_DEFINITION_FILE = 4 * 1024 * 1024;

/** Files written at once: enough to keep the disk busy, well under any open-files limit. */
const WRITE_BATCH = 64;

/** A revision's copy of the repo folder; `dispose()` removes it. */
export interface RevisionTree {
  /** The full commit sha the revision names. */
  commit: string;
  /** The temporary folder holding the repo folder's files as they are at that commit. */
  folder: string;
  dispose(): Promise<void>;
}

interface TreeEntry {
  mode: string;
  object: string;
  path: string;
}

/**
 * Write `revision` (a branch, remote branch, tag or sha) of the Git repo holding `repo` to a
 * temporary folder under the OS's, limited to `repo`'s folder (which may be a subfolder of the Git
 * repo). A revision Git does not know is a `UsageError` naming it.
 */
export async function readRevisionTree(repo: string, revision: string): Promise<RevisionTree> {
  const root = resolve(repo);
  const commit = await resolveCommit(root, revision);
  const folder = await mkdtemp(join(tmpdir(), 'tessera-plan-base-'));
  try {
    const entries = await listTree(root, commit);
    const contents = await readBlobs(
      root,
      entries.map((entry) => entry.object),
    );
    // ls-tree paths are relative to `repo` and never climb out of it; refuse anything that would.
    const files = entries
      .map((entry) => ({ target: join(folder, entry.path), content: contents.get(entry.object)! }))
      .filter(({ target }) => !relative(folder, target).startsWith(`..${sep}`));
    for (const parent of new Set(files.map(({ target }) => dirname(target)))) {
      await mkdir(parent, { recursive: true });
    }
    // Thousands of small files: written a batch at a time rather than one after another.
    for (let start = 0; start < files.length; start += WRITE_BATCH) {
      await Promise.all(
        files.slice(start, start + WRITE_BATCH).map(({ target, content }) => writeFile(target, content)),
      );
    }
    return { commit, folder, dispose: () => rm(folder, { recursive: true, force: true }) };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

async function resolveCommit(root: string, revision: string): Promise<string> {
  if (revision.trim() === '' || revision.startsWith('-')) {
    throw new UsageError(`--base needs a Git revision (a branch, tag or commit), not \`${revision}\``);
  }
  try {
    return (
      await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`])
    ).trim();
  } catch (error) {
    const failure = error as { code?: unknown; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new UsageError(
        '`plan --base` reads the base revision with Git, and `git` is not installed or not on PATH',
      );
    }
    if (/not a git repository/i.test(failure.stderr ?? '')) {
      throw new UsageError(
        `--base ${revision}: ${root} is not in a Git repository; \`plan --base\` compares with another revision of the repo's Git history`,
      );
    }
    throw new UsageError(
      `--base ${revision}: no such revision in the Git repository at ${root}; give a branch, tag or commit ` +
        `(\`git branch -a\` lists branches; in CI fetch the base first, e.g. \`git fetch origin main\` or checkout with fetch-depth 0)`,
    );
  }
}

async function listTree(root: string, commit: string): Promise<TreeEntry[]> {
  // Run in the repo folder: paths come relative to it, limited to it (`-- .`).
  const listing = await git(root, ['ls-tree', '-r', '-l', '-z', commit, '--', '.']);
  const entries: TreeEntry[] = [];
  for (const line of listing.split('\0')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const [mode, type, object, size] = line.slice(0, tab).split(/\s+/);
    // Submodules have no files to read here; a symbolic link could point anywhere, so none is made.
    if (type !== 'blob' || mode === '120000') continue;
    if (Number(size) > LARGEST_DEFINITION_FILE) continue;
    entries.push({ mode: mode!, object: object!, path: line.slice(tab + 1) });
  }
  return entries;
}

/** Every blob's content, by object id, through one `git cat-file --batch`. */
function readBlobs(root: string, objects: string[]): Promise<Map<string, Buffer>> {
  const unique = [...new Set(objects)];
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(
          new Error(`git cat-file failed (exit ${code}): ${Buffer.concat(errors).toString('utf8').trim()}`),
        );
        return;
      }
      const output = Buffer.concat(chunks);
      const contents = new Map<string, Buffer>();
      let offset = 0;
      while (offset < output.length) {
        const headerEnd = output.indexOf(0x0a, offset);
        const [object, , size] = output.subarray(offset, headerEnd).toString('utf8').split(' ');
        const start = headerEnd + 1;
        const end = start + Number(size);
        contents.set(object!, output.subarray(start, end));
        offset = end + 1; // The newline after each content.
      }
      resolvePromise(contents);
    });
    child.stdin.end(unique.map((object) => `${object}\n`).join(''));
  });
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('git', args, { cwd, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}
