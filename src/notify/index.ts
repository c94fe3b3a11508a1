export type { NotificationMessage } from './notification-message.ts';
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
