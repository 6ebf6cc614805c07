import { type App, deleteApp, initializeApp } from "firebase-admin/app";
import { type Firestore, getFirestore } from "firebase-admin/firestore";

export interface Firebase {
  app: App;
  firestore: Firestore;
  close(): Promise<void>;
}

/**
 * The Admin SDK app and its Firestore for one composition root. Credentials come from the platform
 * (Application Default Credentials); under the emulators `FIRESTORE_EMULATOR_HOST` and
 * `FIREBASE_AUTH_EMULATOR_HOST` redirect the SDK and no credentials are used.
 * `name` keeps apps apart when one process builds several (tests do).
 */
export function createFirebase(options: { projectId: string; name?: string }): Firebase {
  const app = initializeApp({ projectId: options.projectId }, options.name);
  const firestore = getFirestore(app);
  return { app, firestore, close: () => deleteApp(app) };
}
