export { type CapturedLogs, captureLogs } from "./capture-logs.ts";
export {
  type LocalCloudTasks,
  type LocalCloudTasksOptions,
  type LocalTask,
  startLocalCloudTasks,
} from "./cloud-tasks-server.ts";
export { testFirebase } from "./firebase.ts";
export { manualClock } from "./manual-clock.ts";
export { testRedis } from "./redis.ts";
export { requireEnv } from "./require-env.ts";
export { declaredSettings, documentedSettings } from "./settings-doc.ts";
export { provideTestStorage, testBucket } from "./storage.ts";
export {
  type LocalObject,
  type LocalStorage,
  type LocalStorageOptions,
  startLocalStorage,
} from "./storage-server.ts";
export {
  type ControlAction,
  type ControlCustomer,
  type ControlEvent,
  type ControlResult,
  type ControlSubscription,
  controlActionSchema,
  controlActions,
  controlCustomerListSchema,
  controlErrorSchema,
  controlEventListSchema,
  controlResultSchema,
  controlSubscriptionListSchema,
  LOCAL_STRIPE_DEV_PORT,
} from "./stripe/control-schema.ts";
export {
  LOCAL_STRIPE_API_KEY,
  type LocalStripe,
  type LocalStripeOptions,
  startLocalStripe,
} from "./stripe/server.ts";
export type { DeliveryAttempt, LocalStripeEvent } from "./stripe/webhook-sender.ts";
export { uniqueId } from "./unique-id.ts";
export { waitFor } from "./wait-for.ts";
