import { createFirebase, type Firebase } from "../firebase/app.ts";
import { requireEnv } from "./require-env.ts";
import { uniqueId } from "./unique-id.ts";

/** An Admin SDK app bound to the Firestore emulator; refuses to run without it. */
export function testFirebase(): Firebase {
  requireEnv("FIRESTORE_EMULATOR_HOST");
  return createFirebase({ projectId: requireEnv("GCLOUD_PROJECT"), name: uniqueId("test") });
}
