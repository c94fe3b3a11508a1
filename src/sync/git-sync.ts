import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { CatalogGitSync, CatalogMonitoring } from '../catalog/catalog-store.ts';
import type { MonitoringEvent, SyncRefusal } from '../model/index.ts';
import type { CommitInfo, GitCheckout } from './git-checkout.ts';
import { formatGitSource } from './git-source.ts';

/** What `evaluate` found: the commit may be applied, or why not and whom it concerns. */
export type SyncVerdict =
  | { accepted: true }
  | {
      accepted: false;
      /** One line per problem, each naming its file and line where there is one. */
      reason: string;
      /** The owners of what the commit touches (told besides its author). */
      owners: string[];
    };

/** Timers on the serve clock (structurally `orchestrator/clock.ts`'s `Clock`). */
export interface SyncClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): object;
  clearTimeout(timer: object | undefined): void;
}

export interface GitSyncOptions {
  checkout: GitCheckout;
  remote: string;
  branch: string;
  /** Where new heads are checked out to be judged (a folder inside the state folder). */
  worktreeFolder: string;
  /** How often the branch is fetched. */
  pollMs: number;
  clock: SyncClock;
  /** Sync state, and the open `sync_refused` incidents an applied commit resolves. */
  store: CatalogGitSync & Pick<CatalogMonitoring, 'listIncidents' | 'recordEvents'>;
  /**
   * Validate and plan the definitions checked out in `folder` (at `commit`) against the catalog,
   * changing nothing. `changedFiles`: what the commit changes against the running one. A throw (a
   * failure of the moment, not of the commit) is logged and the head judged again at the next poll.
   */
  evaluate(folder: string, commit: string, changedFiles: string[]): Promise<SyncVerdict>;
  /**
   * Move the `--repo` folder to `commit` (a fast-forward), apply it and run on it; or refuse it
   * (a problem of the commit found late). Refused or thrown, the folder and the catalog must be as
   * they were; a throw (a failure of the moment) is logged and the head judged again at the next poll.
   */
  activate(commit: string, changedFiles: string[]): Promise<SyncVerdict>;
  /** Owners a commit touches (told when it does not descend from the running one). */
  ownersTouched(changedFiles: string[]): string[];
  log?: (message: string) => void;
}

/**
 * The Git watcher (SPEC §6, Git sync): fetches the branch every poll interval and when asked
 * (`request`, e.g. by the push webhook), and brings each new head through validate → plan →
 * apply, one at a time. A head that cannot be applied changes nothing; it is recorded as refused
 * with its author and reason and a `sync_refused` event tells the author and the owners it touches.
 * A refused head is not judged again until the branch moves on.
 */
export class GitSync {
  private timer: object | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly log: (message: string) => void;
  private readonly source: string;

  constructor(private readonly options: GitSyncOptions) {
    this.log = options.log ?? (() => {});
    this.source = formatGitSource({ remote: options.remote, branch: options.branch });
  }

  /** Check at once, then every poll interval. */
  start(): void {
    this.request();
    this.arm();
  }

  /** Fetch and judge the head now (coalesced with a check already running: it checks once more). */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once no check runs or is due (a test's way to wait without sleeping). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more checks; waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    await this.idle();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.request();
      this.arm();
    }, this.options.pollMs);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.check();
      } catch (error) {
        // A fetch that fails (network, remote gone) is retried at the next poll; serve goes on.
        this.log(`git sync: ${messageOf(error)}`);
      }
    } while (this.again && !this.stopped);
  }

  private async check(): Promise<void> {
    const { checkout, store, clock } = this.options;
    const head = await checkout.fetch(this.options.remote, this.options.branch);
    await store.recordSyncSeen(this.source, head, iso(clock.now()));
    const active = await checkout.head();
    if (head === active) {
      const status = await store.readSyncStatus();
      if (status.activeCommit !== active) await store.recordSyncActivated(active, iso(clock.now()));
      return;
    }
    if ((await store.readSyncStatus()).lastRefusal?.commit === head) return;
    const info = await checkout.commitInfo(head);
    const changedFiles = await checkout.changedFiles(active, head);
    if (!(await checkout.isAncestor(active, head))) {
      await this.refuse(info, {
        reason: `${short(head)} does not descend from the running commit ${short(active)} (a force-push?): Git sync only moves forward; reset --repo by hand to follow it`,
        owners: this.options.ownersTouched(changedFiles),
      });
      return;
    }
    const folder = join(this.options.worktreeFolder, head);
    let verdict: SyncVerdict;
    try {
      await checkout.addWorktree(folder, head);
      verdict = await this.options.evaluate(folder, head, changedFiles);
    } finally {
      await checkout
        .removeWorktree(folder)
        .catch((error: unknown) => this.log(`git sync: ${messageOf(error)}`));
    }
    if (!verdict.accepted) {
      await this.refuse(info, verdict);
      return;
    }
    const outcome = await this.options.activate(head, changedFiles);
    if (!outcome.accepted) {
      await this.refuse(info, outcome);
      return;
    }
    await store.recordSyncActivated(head, iso(clock.now()));
    this.log(`git sync: applied ${short(head)} by ${info.authorName}: ${info.subject}`);
    await this.resolveRefusals(info);
  }

  /**
   * The branch applies again: every open `sync_refused` incident is resolved, so those told of a
   * refusal hear it is behind them (and are not reminded of it).
   */
  private async resolveRefusals(applied: CommitInfo): Promise<void> {
    const at = iso(this.options.clock.now());
    const open = (await this.options.store.listIncidents({ status: 'open' })).filter(
      (incident) => incident.kind === 'sync_refused',
    );
    await this.options.store.recordEvents(
      open.map((incident) => ({
        id: randomUUID(),
        kind: 'recovered',
        severity: 'info',
        cause: `the branch applies again: commit ${short(applied.commit)} by ${applied.authorName} ("${applied.subject}") was applied`,
        incidentKey: incident.key,
        at,
      })),
    );
  }

  private async refuse(info: CommitInfo, verdict: { reason: string; owners: string[] }): Promise<void> {
    const at = iso(this.options.clock.now());
    const refusal: SyncRefusal = {
      commit: info.commit,
      authorName: info.authorName,
      authorEmail: info.authorEmail,
      reason: verdict.reason,
      refusedAt: at,
    };
    const event: MonitoringEvent = {
      id: randomUUID(),
      kind: 'sync_refused',
      severity: 'error',
      cause: `commit ${short(info.commit)} by ${info.authorName} <${info.authorEmail}> ("${info.subject}") was not applied; nothing changed: ${verdict.reason.split('\n').join('; ')}`,
      incidentKey: `sync_refused:${info.commit}`,
      at,
      recipients: { owners: verdict.owners, emails: info.authorEmail ? [info.authorEmail] : [] },
    };
    await this.options.store.recordSyncRefusal(refusal, [event]);
    this.log(`git sync: refused ${short(info.commit)} by ${info.authorName}: ${verdict.reason}`);
  }
}

function short(commit: string): string {
  return commit.slice(0, 12);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
