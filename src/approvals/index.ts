export {
  APPROVAL_POLL_MS,
  type ApprovalEvent,
  type ApprovalService,
  type ApprovalServiceDeps,
  type ApprovalsConfig,
  type ApprovalView,
  createApprovalService,
  type ParkCallInput,
  type WaitControls,
} from './approval-service.js';
export { REDACTED, redactArguments } from './redact-arguments.js';
export { createWebhookNotifier, type WebhookNotifier, type WebhookTarget } from './webhook-notifier.js';
export {
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from './webhook-signature.js';
