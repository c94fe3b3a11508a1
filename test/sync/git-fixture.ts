/**
 * Git sync's world, made with the real git CLI in a temporary folder: a bare repository standing
 * in for the hosted remote, a developer's clone that commits and pushes, and the clone
 * `tessera serve --watch-git` runs on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFiles } from '../support/cli.ts';

const run = promisify(execFile);

export interface Author {
  name: string;
  email: string;
}

export const ADA: Author = { name: 'Ada Lovelace', email: 'ada@example.org' };

export interface GitWorld {
  /** The bare repository (the remote), by path. */
  remote: string;
  /** The clone serve runs on (`--repo`). */
  repo: string;
  /** Commit `files` (path → content; `null` deletes) in the developer's clone as `author` and push; returns the sha. */
  push(files: Record<string, string | null>, message: string, author?: Author): Promise<string>;
  /** `git` in the serve clone. */
  gitInRepo(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd });
  return stdout.trim();
}

/** A remote whose first commit holds `files`, and serve's clone of it. */
export async function makeGitWorld(files: Record<string, string>): Promise<GitWorld> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-git-sync-'));
  const remote = join(root, 'catalog.git');
  const developer = join(root, 'developer');
  const repo = join(root, 'serve');
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  await run('git', ['clone', '--quiet', remote, developer]);
  await git(developer, 'checkout', '--quiet', '-B', 'main');

  const push = async (changes: Record<string, string | null>, message: string, author = ADA) => {
    const written = Object.fromEntries(
      Object.entries(changes).filter((entry): entry is [string, string] => entry[1] !== null),
    );
    await writeFiles(developer, written);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) await git(developer, 'rm', '--quiet', path);
    }
    await git(developer, 'add', '--all');
    await git(
      developer,
      '-c',
      `user.name=${author.name}`,
      '-c',
      `user.email=${author.email}`,
      'commit',
      '--quiet',
      '-m',
      message,
    );
    await git(developer, 'push', '--quiet', 'origin', 'main');
    return git(developer, 'rev-parse', 'HEAD');
  };

  await push({ '.gitignore': '.tessera/\n', ...files }, 'the catalog repo');
  await run('git', ['clone', '--quiet', '--branch', 'main', remote, repo]);
  return {
    remote,
    repo,
    push,
    gitInRepo: (...args) => git(repo, ...args),
    close: () => rm(root, { recursive: true, force: true }),
  };
}
