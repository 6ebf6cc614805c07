/** What `npm run dev` (scripts/dev.ts) and its end-to-end test use of the dev tools: the `./dev` export. */

export { DEMO_BOT_NUMBER, DEMO_EMAIL, DEMO_PLAN, type DemoSeed, seedDemo } from "./demo-seed.ts";
export { seedDemoWebhook } from "./demo-webhook.ts";
export {
  DEFAULT_DEV_HOME,
  type DevEndpoints,
  devEndpointsSchema,
  readDevEndpoints,
  writeDevEndpoints,
} from "./dev-endpoints.ts";
export { readDocument } from "./firestore-rest.ts";
export { watchLinking } from "./linking-watcher.ts";
export { readableEmulatorLine, readableLogLine } from "./log-lines.ts";
export {
  describeWebhook,
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from "./webhook-receiver.ts";
