/**
 * The functions this codebase deploys. Each export is one line of wiring to the handler that the
 * tests run, so what is tested is what is deployed.
 */
import { botDocumentPattern } from "@whatsdex/core";
import { onDocumentDeleted } from "firebase-functions/firestore";
import { onRequest } from "firebase-functions/https";
import { getRuntime } from "./runtime.ts";
import { cleanUpDeletedBot } from "./triggers/bot-deleted.ts";

/** The tenant REST API: one Express app behind one HTTPS function. */
export const api = onRequest({ concurrency: 80 }, async (request, response) => {
  const { api } = await getRuntime();
  api(request, response);
});

/** A deleted bot's auth state, outbox, contacts and lease go with it. */
export const onBotDeleted = onDocumentDeleted(botDocumentPattern, async (event) => {
  await cleanUpDeletedBot(await getRuntime(), event.params);
});
