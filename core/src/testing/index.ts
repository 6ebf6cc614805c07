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
export { uniqueId } from "./unique-id.ts";
export { waitFor } from "./wait-for.ts";
