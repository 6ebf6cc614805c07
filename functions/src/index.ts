/**
 * The functions this codebase deploys. Each export is one line of wiring to the handler that the
 * tests run, so what is tested is what is deployed.
 */
import { botDocumentPattern, collections } from "@whatsdex/core";
import { onDocumentCreated, onDocumentDeleted } from "firebase-functions/firestore";
import { onRequest } from "firebase-functions/https";
import { onSchedule } from "firebase-functions/scheduler";
import { getRuntime } from "./runtime.ts";
import { cleanUpDeletedBot } from "./triggers/bot-deleted.ts";
import { startClosing, sweepClosings } from "./triggers/tenant-closing.ts";

/**
 * Secret Manager secrets, exposed to every function as environment variables: each function builds
 * the same runtime, whose configuration requires them when deployed (fail closed).
 */
const secrets = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"];

/** The tenant REST API: one Express app behind one HTTPS function. */
export const api = onRequest({ concurrency: 80, secrets }, async (request, response) => {
  const { api } = await getRuntime();
  api(request, response);
});

/** Stripe's events (checkout, subscriptions, invoices): verified on the raw body, applied once each. */
export const stripeWebhook = onRequest({ concurrency: 20, secrets }, async (request, response) => {
  const { stripeWebhook } = await getRuntime();
  await stripeWebhook(request, response);
});

/** Announces outbound sending paused for tenants whose payment grace period ended (sends check the clock themselves). */
export const billingGraceSweep = onSchedule({ schedule: "every 15 minutes", secrets }, async () => {
  const { billingSync } = await getRuntime();
  await billingSync.restrictDue();
});

/** A deleted bot's auth state, outbox, contacts and lease go with it. */
export const onBotDeleted = onDocumentDeleted({ document: botDocumentPattern, secrets }, async (event) => {
  await cleanUpDeletedBot(await getRuntime(), event.params);
});

/** An account closing, from its record's creation: subscription, logouts, media, data (ADR 23). */
export const onTenantClosing = onDocumentCreated(
  { document: `${collections.tenantDeletions}/{tenantId}`, secrets, timeoutSeconds: 540 },
  async (event) => startClosing(await getRuntime(), event.params),
);

/** Resumes account closings that a crash or a failed step left unfinished. */
export const sweepTenantClosings = onSchedule(
  { schedule: "every 10 minutes", secrets, timeoutSeconds: 540 },
  async () => {
    await sweepClosings(await getRuntime());
  },
);
