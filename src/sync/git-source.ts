import { UsageError } from '../diagnostics/index.ts';

/** What `--watch-git REMOTE[#BRANCH]` names: a remote (a URL or a path) and, optionally, its branch. */
export interface GitSource {
  remote: string;
  /** Absent: the branch the `--repo` clone has checked out. */
  branch?: string;
}

/** `REMOTE[#BRANCH]` → `GitSource`; `UsageError` for an empty remote or branch. */
export function parseGitSource(text: string): GitSource {
  const hash = text.lastIndexOf('#');
  const remote = (hash < 0 ? text : text.slice(0, hash)).trim();
  const branch = hash < 0 ? undefined : text.slice(hash + 1).trim();
  if (remote === '' || branch === '') {
    throw new UsageError(
      `--watch-git takes REMOTE[#BRANCH] (a URL or a path, e.g. https://github.com/acme/catalog.git#main), got "${text}"`,
    );
  }
  return branch === undefined ? { remote } : { remote, branch };
}

/** `REMOTE#BRANCH`, as status shows it. */
export function formatGitSource(source: Required<GitSource>): string {
  return `${source.remote}#${source.branch}`;
}
