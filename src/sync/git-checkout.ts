import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { UsageError } from '../diagnostics/index.ts';

/** Who made a commit, and its first line. */
export interface CommitInfo {
  commit: string;
  authorName: string;
  authorEmail: string;
  subject: string;
}

/**
 * The `--repo` clone as Git sync uses it: fetch a branch of the remote, read a commit's author and
 * the files it changes, check a commit out in a separate worktree, and move the folder to a commit.
 */
export class GitCheckout {
  private constructor(
    private readonly git: SimpleGit,
    /** The clone's folder. */
    readonly folder: string,
  ) {}

  /** `UsageError` when `folder` is not a Git work tree with a commit. */
  static async open(folder: string): Promise<GitCheckout> {
    const git = simpleGit({ baseDir: folder });
    try {
      await git.revparse(['--verify', 'HEAD']);
    } catch (error) {
      throw new UsageError(
        `--watch-git needs --repo to be a Git clone of the remote with a commit checked out; ${folder} is not (${firstLine(error)}); clone it first: git clone REMOTE ${folder}`,
      );
    }
    return new GitCheckout(git, folder);
  }

  /** The commit checked out in the folder. */
  async head(): Promise<string> {
    return (await this.git.revparse(['HEAD'])).trim();
  }

  /** The branch checked out in the folder; `UsageError` on a detached head. */
  async currentBranch(): Promise<string> {
    const branch = (await this.git.revparse(['--abbrev-ref', 'HEAD'])).trim();
    if (branch === 'HEAD') {
      throw new UsageError(
        `${this.folder} has no branch checked out (detached HEAD); name one: --watch-git REMOTE#BRANCH`,
      );
    }
    return branch;
  }

  /** Fetch `branch` of `remote` and return its head commit (nothing in the folder moves). */
  async fetch(remote: string, branch: string): Promise<string> {
    // Not `--quiet`: simple-git waits 50 ms more for a command that prints nothing.
    await this.git.raw(['fetch', '--no-tags', remote, `refs/heads/${branch}`]);
    return (await this.git.revparse(['FETCH_HEAD'])).trim();
  }

  async commitInfo(commit: string): Promise<CommitInfo> {
    const text = await this.git.raw(['show', '-s', '--format=%an%x00%ae%x00%s', commit]);
    const [authorName = '', authorEmail = '', subject = ''] = text.trim().split('\u0000');
    return { commit, authorName, authorEmail, subject };
  }

  /** Files added, changed or removed between two commits, repo-relative with `/`. */
  async changedFiles(from: string, to: string): Promise<string[]> {
    const text = await this.git.raw(['diff', '--name-only', '--no-renames', from, to]);
    return text.split('\n').filter((line) => line !== '');
  }

  /** Whether `ancestor` is `commit` or comes before it (so moving to `commit` is a fast-forward). */
  async isAncestor(ancestor: string, commit: string): Promise<boolean> {
    // `merge-base A B` is A exactly when A is an ancestor of B. (`--is-ancestor` answers by exit code
    // alone, and simple-git waits 50 ms more for a command that prints nothing.)
    try {
      return (await this.git.raw(['merge-base', ancestor, commit])).trim() === ancestor;
    } catch {
      return false; // no common history at all
    }
  }

  /** Check `commit` out, detached, in a new worktree at `path` (replacing one left there). */
  async addWorktree(path: string, commit: string): Promise<void> {
    if (existsSync(path)) await this.removeWorktree(path);
    await mkdir(dirname(path), { recursive: true });
    await this.git.raw(['worktree', 'add', '--detach', '--force', path, commit]);
  }

  /** Remove the worktree at `path`, if any (also one whose folder was half deleted). */
  async removeWorktree(path: string): Promise<void> {
    try {
      await this.git.raw(['worktree', 'remove', '--force', path]);
    } catch {
      await rm(path, { recursive: true, force: true });
      await this.git.raw(['worktree', 'prune']);
    }
  }

  /** Move the checked-out branch forward to `commit`; throws when that is not a fast-forward. */
  async fastForward(commit: string): Promise<void> {
    await this.git.raw(['merge', '--ff-only', commit]);
  }

  /** Move the checked-out branch back to `commit`, keeping local changes (undoes `fastForward`). */
  async resetTo(commit: string): Promise<void> {
    await this.git.raw(['reset', '--keep', commit]);
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().split('\n')[0] ?? '';
}
