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
