// Importing this index loads the channels (and nodemailer): the runner and the orchestrator import
// `run-events.ts` directly, and the platform loads the channels only when it notifies.
export * from './notification-message.ts';
export { DeliveryError } from './delivery-error.ts';
export type { Channel } from './channels/channel.ts';
export {
  createChannelSender,
  DEFAULT_CHANNEL_TIMEOUT_MS,
  type ChannelSender,
  type ChannelSenderOptions,
} from './channels/channel-sender.ts';
export { pagerDutyDedupKey } from './channels/pagerduty-channel.ts';
export {
  verifyWebhookSignature,
  webhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookBody,
} from './channels/webhook-channel.ts';
export {
  Notifier,
  MAX_DELIVERY_ATTEMPTS,
  type MessageSender,
  type NotifierOptions,
  type DeliveryReport,
} from './notifier.ts';
export { runOutcomeEvents, incidentKeys, describeFailedCheck, type RunOutcome } from './run-events.ts';
export { eventRecipients, channelCarries, type Recipient } from './recipients.ts';
export { tableHealth, type HealthInputs } from './table-health.ts';
export { formatAge } from './age-text.ts';
