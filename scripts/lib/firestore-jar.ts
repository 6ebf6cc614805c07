import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { z } from "zod";
import type { Java } from "./java.ts";

const emulatorInfoSchema = z.object({ firestore: z.object({ downloadPathRelativeToCacheDir: z.string() }) });

/**
 * How firebase-tools will get its Cloud Firestore emulator:
 * - `override`: FIRESTORE_EMULATOR_BINARY_PATH is set (by the user, or by us to a launcher jar);
 * - `cached`: firebase-tools already downloaded the jar it wants;
 * - `download`: firebase-tools will download it on start (needs internet).
 */
export type FirestoreJar =
  | { kind: "override"; path: string; note: string }
  | { kind: "cached"; path: string }
  | { kind: "download"; path: string };

const gcloudJarRelative = join("platform", "cloud-firestore-emulator", "cloud-firestore-emulator.jar");
const mainClass = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";

export function locateFirestoreJar(root: string, java: Java): FirestoreJar {
  const override = process.env.FIRESTORE_EMULATOR_BINARY_PATH;
  if (override) return { kind: "override", path: override, note: "FIRESTORE_EMULATOR_BINARY_PATH" };

  const cached = firebaseToolsJar(root);
  if (existsSync(cached)) return { kind: "cached", path: cached };

  const gcloudJar = findGcloudJar();
  if (gcloudJar) {
    return { kind: "override", path: launcherJar(root, java, gcloudJar), note: `launcher for ${gcloudJar}` };
  }
  return { kind: "download", path: cached };
}

/** Where firebase-tools keeps (or would download) the jar of the version it pins. */
function firebaseToolsJar(root: string): string {
  const infoPath = join(root, "node_modules", "firebase-tools", "lib", "emulator", "downloadableEmulatorInfo.json");
  const info = emulatorInfoSchema.safeParse(JSON.parse(readFileSync(infoPath, "utf8")));
  if (!info.success) throw new Error(`${infoPath} no longer names the Firestore emulator jar`);
  const relative = info.data.firestore.downloadPathRelativeToCacheDir;
  const cacheDir = process.env.FIREBASE_EMULATORS_PATH ?? join(homedir(), ".cache", "firebase", "emulators");
  return join(cacheDir, relative);
}

/** The emulator jar of a Google Cloud SDK install (Debian's google-cloud-cli-firestore-emulator, brew, …). */
function findGcloudJar(): string | undefined {
  const sdkRoots = [
    "/usr/lib/google-cloud-sdk",
    "/usr/share/google-cloud-sdk",
    "/opt/google-cloud-sdk",
    "/opt/homebrew/share/google-cloud-sdk",
    "/usr/local/share/google-cloud-sdk",
    join(homedir(), "google-cloud-sdk"),
  ];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const gcloud = join(dir, "gcloud");
    if (dir && existsSync(gcloud)) sdkRoots.unshift(dirname(dirname(realpathSync(gcloud))));
  }
  return sdkRoots.map((sdk) => join(sdk, gcloudJarRelative)).find((jar) => existsSync(jar));
}

/**
 * The SDK's jar has no Main-Class, and firebase-tools runs the emulator as `java -jar <path>`. A
 * two-line manifest jar that names the main class and puts the SDK's jar on its class path bridges
 * the two without copying Google's jar anywhere.
 */
function launcherJar(root: string, java: Java, gcloudJar: string): string {
  const manifest = `Manifest-Version: 1.0\nMain-Class: ${mainClass}\nClass-Path: ${new URL(`file://${gcloudJar}`).href}\n`;
  const hash = createHash("sha256").update(manifest).digest("hex").slice(0, 12);
  const dir = join(root, ".cache", "emulators");
  const jar = join(dir, `firestore-launcher-${hash}.jar`);
  if (existsSync(jar)) return jar;
  mkdirSync(dir, { recursive: true });
  const manifestPath = join(dir, `manifest-${hash}.txt`);
  writeFileSync(manifestPath, manifest);
  const jarTool = join(java.home, "bin", "jar");
  const result = spawnSync(jarTool, ["cfm", jar, manifestPath], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `Could not build the Firestore emulator launcher with ${jarTool}: ${result.stderr || result.error}`,
    );
  }
  return jar;
}
