/**
 * `tessera serve --watch-git`: a serve that follows a Git branch. The watcher (sync/) fetches and
 * judges each new head; this module gives it the platform's validate + plan (on the head checked
 * out in a worktree, against the running catalog) and its activation: move the folder, re-open the
 * platform on it, stop the running orchestrator (runs in flight finish first), apply, and serve the
 * new definitions.
 */
import { join } from 'node:path';
import { loadDefinitions, redactSecrets } from '../definitions/index.ts';
import { formatDiagnostic } from '../diagnostics/diagnostic.ts';
import { ApplyRefusedError, DefinitionError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import type { Definitions } from '../model/index.ts';
import {
  GitCheckout,
  GIT_HOOK_PATH,
  GitSync,
  ownersTouched,
  parseGitSource,
  judgePush,
  startWebhookServer,
  type GitSyncOptions,
  type SyncVerdict,
  type WebhookServer,
} from '../sync/index.ts';
import type { Platform, PlatformOptions, ServeSettings, ServerHandle } from '../platform.ts';
import { internalsOf } from './internals.ts';

/** `serve --watch-git`'s settings. */
export interface WatchGitSettings {
  /** `REMOTE[#BRANCH]`; without a branch, the one the `--repo` clone has checked out. */
  source: string;
  /** How often the branch is fetched. Default: 30 s. */
  pollMs?: number;
  /** Where `POST /api/v1/hooks/git` is answered; absent: no webhook (polling only). `0`: any free port. */
  webhookPort?: number;
  /** Default `127.0.0.1`. */
  webhookHost?: string;
  /** While a new commit is activated, how long runs in flight may finish before they are requeued. Default: 10 min. */
  graceMs?: number;
}

/** The current platform and its serve: replaced each time a commit is applied. */
interface Generation {
  platform: Platform;
  handle: ServerHandle;
}

export async function serveWithGitSync(
  first: Platform,
  options: PlatformOptions,
  settings: ServeSettings,
  watch: WatchGitSettings,
  open: (options: PlatformOptions) => Promise<Platform>,
): Promise<ServerHandle> {
  const repo = first.definitions.project.root;
  const checkout = await GitCheckout.open(repo);
  const source = parseGitSource(watch.source);
  const branch = source.branch ?? (await checkout.currentBranch());
  const secret = first.definitions.project.git?.webhookSecret;
  if (watch.webhookPort !== undefined && secret === undefined) {
    throw new UsageError(
      "--webhook-port needs a secret to check push signatures: add `git: { webhook_secret: ${TESSERA_WEBHOOK_SECRET} }` to tessera.yaml and export the secret set on the repository's webhook",
    );
  }
  const serveSettings: ServeSettings = { ...settings, watchGit: undefined };
  const log = settings.log ?? (() => {});
  const clock = settings.clock ?? (await import('../orchestrator/clock.ts')).SYSTEM_CLOCK;
  const graceMs = watch.graceMs ?? 600_000;
  // Set once the first serve runs (below); the watcher starts only then.
  let current: Generation = { platform: first, handle: undefined as unknown as ServerHandle };

  // The store of whichever platform runs now: the one the watcher saw at start closes on activation.
  const store: GitSyncOptions['store'] = {
    recordSyncSeen: (...args) => internalsOf(current.platform).store.recordSyncSeen(...args),
    recordSyncActivated: (...args) => internalsOf(current.platform).store.recordSyncActivated(...args),
    recordSyncRefusal: (...args) => internalsOf(current.platform).store.recordSyncRefusal(...args),
    readSyncStatus: () => internalsOf(current.platform).store.readSyncStatus(),
    listIncidents: (...args) => internalsOf(current.platform).store.listIncidents(...args),
    recordEvents: (...args) => internalsOf(current.platform).store.recordEvents(...args),
  };

  /** Validate and plan the worktree's definitions against the running catalog; nothing is written. */
  const evaluate = async (folder: string, _commit: string, changedFiles: string[]): Promise<SyncVerdict> => {
    const project = current.platform.definitions.project;
    // The worktree's own `.tessera/` is not the catalog: point it at the running one.
    const env = {
      ...(options.env ?? process.env),
      TESSERA_CATALOG_URL: project.catalog,
      TESSERA_STORAGE_URL: project.storage,
    };
    const touched = (definitions?: Definitions): string[] =>
      [
        ...new Set([
          ...ownersTouched(current.platform.definitions, changedFiles),
          ...(definitions ? ownersTouched(definitions, changedFiles) : []),
        ]),
      ].sort();
    let candidate: Platform | undefined;
    try {
      candidate = await open({ ...options, repo: folder, env });
      const plan = await candidate.plan();
      if (plan.refusals.length > 0) {
        return { accepted: false, reason: plan.refusals.join('\n'), owners: touched(candidate.definitions) };
      }
      return { accepted: true };
    } catch (error) {
      if (!isRefusal(error)) throw error; // e.g. the catalog unreachable: judged again at the next poll
      // What the broken commit declares still names owners (a new table's, say): loaded despite
      // errors. Its `${VAR}` values are put back into the reason, which is stored and mailed.
      const loaded = await loadDefinitions(folder, { env, cache: false }).catch(() => undefined);
      return {
        accepted: false,
        reason: redactSecrets(refusalReason(error), loaded?.secrets ?? []),
        owners: touched(loaded?.definitions),
      };
    } finally {
      await candidate?.close();
    }
  };

  /** Move the folder to `commit`, apply it and serve it; refused or failed, everything as before. */
  const activate = async (commit: string, changedFiles: string[]): Promise<SyncVerdict> => {
    const previous = await checkout.head();
    await checkout.fastForward(commit);
    let next: Platform | undefined;
    try {
      next = await open(options);
      const plan = await next.plan();
      // The catalog may have moved since the commit was judged (another apply): judged again here.
      if (plan.refusals.length > 0) throw new ApplyRefusedError(plan.refusals);
    } catch (error) {
      await next?.close().catch(() => {});
      await checkout.resetTo(previous);
      if (!isRefusal(error)) throw error;
      return {
        accepted: false,
        reason: refusalReason(error),
        owners: ownersTouched(current.platform.definitions, changedFiles),
      };
    }
    log(`git sync: ${commit.slice(0, 12)} passed validation and plan; waiting for runs in flight`);
    await current.handle.stop(graceMs);
    try {
      await next.apply();
      current = { platform: next, handle: await next.serve(serveSettings) };
      return { accepted: true };
    } catch (error) {
      // Back to the commit that ran, on a fresh platform, so serve goes on as it was.
      await next.close().catch(() => {});
      await checkout.resetTo(previous);
      const restored = await open(options);
      current = { platform: restored, handle: await restored.serve(serveSettings) };
      throw error;
    }
  };

  const sync = new GitSync({
    checkout,
    remote: source.remote,
    branch,
    worktreeFolder: join(repo, '.tessera', 'sync', 'worktrees'),
    pollMs: watch.pollMs ?? 30_000,
    clock,
    store,
    evaluate,
    activate,
    ownersTouched: (changedFiles) => ownersTouched(current.platform.definitions, changedFiles),
    log,
  });
  // The webhook's port is taken before serving starts, so a port in use stops nothing that runs.
  let webhook: WebhookServer | undefined;
  if (watch.webhookPort !== undefined && secret !== undefined) {
    webhook = await startWebhookServer({
      host: watch.webhookHost ?? '127.0.0.1',
      port: watch.webhookPort,
      secret,
      branch,
      onPush: () => sync.request(),
      log,
    });
    log(
      `git sync: push webhook on http://${watch.webhookHost ?? '127.0.0.1'}:${webhook.port}${GIT_HOOK_PATH}`,
    );
  }
  try {
    current = { platform: first, handle: await first.serve(serveSettings) };
  } catch (error) {
    await webhook?.close();
    throw error;
  }
  sync.start();
  log(`git sync: following ${source.remote}#${branch} every ${(watch.pollMs ?? 30_000) / 1000} s`);

  return {
    get monitor() {
      return current.handle.monitor;
    },
    get platform() {
      return current.platform;
    },
    sync: {
      request: () => sync.request(),
      idle: () => sync.idle(),
      ...(webhook ? { webhookPort: webhook.port } : {}),
      receivePush: (delivery) => {
        if (secret === undefined) {
          return {
            status: 404,
            body: {
              error: {
                code: 'not_found',
                message:
                  'the push webhook needs git.webhook_secret in tessera.yaml to check signatures; this serve only polls',
              },
            },
          };
        }
        const verdict = judgePush(delivery, { secret, branch });
        if (verdict.push) queueMicrotask(() => sync.request());
        return { status: verdict.status, body: verdict.body };
      },
    },
    stop: async (stopGraceMs) => {
      await webhook?.close();
      await sync.stop();
      return current.handle.stop(stopGraceMs);
    },
  };
}

/** Problems of the commit itself (its definitions, or a change `apply` refuses), not of the moment. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof DefinitionError || error instanceof ApplyRefusedError || error instanceof UsageError
  );
}

/** A refusal's reason: every definition problem on its own `file:line:col` line, or the error's message. */
function refusalReason(error: unknown): string {
  if (error instanceof DefinitionError) return error.diagnostics.map(formatDiagnostic).join('\n');
  if (error instanceof TesseraError || error instanceof Error) return error.message;
  return String(error);
}
