export { type BullmqWorkerOptions, bullmqTransport, startBullmqWorker } from "./driver.ts";
