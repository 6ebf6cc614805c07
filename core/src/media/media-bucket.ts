import { type Bucket, Storage } from "@google-cloud/storage";
import { z } from "zod";

/** Cloud Storage's bucket naming rules (the common case: no dots longer than 63 per part). */
const bucketNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/,
    "must be a Cloud Storage bucket name (lowercase letters, digits, '-', '_', '.')",
  );

/** The media settings both deployables read (see docs/settings.md). */
export const mediaEnvShape = {
  /** Where media lives; deployed, it must be named (see mediaBucketName). */
  MEDIA_BUCKET: bucketNameSchema.optional(),
};

/** The bucket's name: MEDIA_BUCKET, or locally the Firebase default bucket's name for the project. */
export function mediaBucketName(env: { MEDIA_BUCKET?: string | undefined }, projectId: string): string {
  // Deployed, failClosedWhenDeployed requires MEDIA_BUCKET: older Firebase projects' default bucket is
  // `<project>.appspot.com`, newer ones' `<project>.firebasestorage.app`, so a guess could be wrong there.
  return env.MEDIA_BUCKET ?? `${projectId}.firebasestorage.app`;
}

/**
 * The media bucket, for a composition root. With `emulatorHost` (STORAGE_EMULATOR_HOST) the client
 * talks to that server (the local storage server, or the Firebase Storage emulator) and sends no
 * credentials; otherwise to Cloud Storage with the platform's.
 */
export function createMediaBucket(options: {
  projectId: string;
  bucketName: string;
  emulatorHost?: string | undefined;
}): Bucket {
  const storage = new Storage({
    projectId: options.projectId,
    ...(options.emulatorHost ? { apiEndpoint: options.emulatorHost } : {}),
  });
  return storage.bucket(options.bucketName);
}
