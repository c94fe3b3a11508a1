export { GitCheckout, type CommitInfo } from './git-checkout.ts';
export { GitSync, type GitSyncOptions, type SyncClock, type SyncVerdict } from './git-sync.ts';
export { formatGitSource, parseGitSource, type GitSource } from './git-source.ts';
export {
  GIT_HOOK_PATH,
  judgePush,
  startWebhookServer,
  type PushDelivery,
  type PushVerdict,
  type WebhookServer,
} from './webhook-server.ts';
export { githubSignature, verifyGithubSignature } from './webhook-signature.ts';
export { ownersTouched } from './owners-touched.ts';
