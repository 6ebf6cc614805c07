import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { z } from "zod";
import type { FirestoreJar } from "./firestore-jar.ts";
import type { Java } from "./java.ts";
import { freePorts } from "./ports.ts";
import { type Managed, pipeWithPrefix, startGroup, stopGroup } from "./processes.ts";
import { pollUntil } from "./wait.ts";

export const PROJECT_ID = "demo-whatsdex";
export const FUNCTIONS_REGION = "us-central1";

export type EmulatorName = "auth" | "firestore" | "functions";

export interface EmulatorOptions {
  root: string;
  only: readonly EmulatorName[];
  java: Java;
  firestoreJar: FirestoreJar;
  /** Fresh free ports (tests, so a running `npm run dev` is no obstacle) or firebase.json's own (dev). */
  ports: "free" | "configured";
  /** Where the emulators' output goes: a log file (tests) or prefixed lines on our stdout (dev). */
  output: { file: string } | { write: (line: string) => void };
  /** Firestore/Auth data to import at start and export on exit (dev persistence). */
  dataDir?: string;
  /** More variables for the emulators and the functions they run (the local storage server's). */
  env?: Record<string, string>;
}

/** What a client of the emulators needs: the variables the Admin SDK reads, and our own. */
export interface EmulatorEnv {
  METADATA_SERVER_DETECTION: string;
  GCLOUD_PROJECT: string;
  FIREBASE_EMULATOR_HUB: string;
  FIRESTORE_EMULATOR_HOST: string;
  FIREBASE_AUTH_EMULATOR_HOST: string;
  WHATSDEX_FUNCTIONS_URL: string;
}

export interface Emulators {
  env: EmulatorEnv;
  functionsUrl: string;
  stop(): Promise<void>;
}

/**
 * The development values of the functions' Secret Manager secrets (`secrets` in functions/src/index.ts).
 * The Functions emulator reads declared secrets from `functions/.secret.local` and asks Secret Manager
 * (unreachable offline) for any it lacks, so the file always holds them. They are the same for every
 * local stack (dev and tests side by side share the file); which Stripe they reach is STRIPE_API_URL.
 */
export const LOCAL_SECRETS = {
  STRIPE_SECRET_KEY: "sk_test_whatsdex_local",
  STRIPE_WEBHOOK_SECRET: "whsec_whatsdex_local",
} as const;

function writeLocalSecrets(root: string): void {
  const file = join(root, "functions", ".secret.local");
  const content = `${Object.entries(LOCAL_SECRETS)
    .map(([name, value]) => `${name}=${value}`)
    .join("\n")}\n`;
  if (!existsSync(file) || readFileSync(file, "utf8") !== content) writeFileSync(file, content);
}

const hostPort = z.object({ host: z.string(), port: z.number().int() });
const firebaseJsonSchema = z.looseObject({
  emulators: z.looseObject({
    hub: hostPort,
    logging: hostPort,
    auth: hostPort,
    firestore: hostPort.extend({ websocketPort: z.number().int() }),
    functions: hostPort,
  }),
});
/**
 * Google's client libraries look for the GCE metadata server (169.254.169.254) to find credentials
 * even when every call goes to an emulator: traffic off this machine and a stall of seconds. Nothing
 * under the emulators needs credentials, so both the emulators and their clients are told not to look.
 */
const offlineGoogleAuth = { METADATA_SERVER_DETECTION: "none" } as const;

const runningSchema = z.record(z.string(), z.unknown());
const backendsSchema = z.object({
  backends: z.array(z.object({ functionTriggers: z.array(z.object({ name: z.string() })) })),
});

export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const base = firebaseJsonSchema.parse(JSON.parse(readFileSync(join(options.root, "firebase.json"), "utf8")));
  const config = structuredClone(base);
  if (options.ports === "free") {
    const [hub, logging, auth, firestore, websocket, functions] = await freePorts(6);
    const e = config.emulators;
    Object.assign(e.hub, { port: hub });
    Object.assign(e.logging, { port: logging });
    Object.assign(e.auth, { port: auth });
    Object.assign(e.firestore, { port: firestore, websocketPort: websocket });
    Object.assign(e.functions, { port: functions });
  }
  // firebase-tools takes the project root from the config file's folder, so the copy sits beside
  // firebase.json; its name is unique so that concurrent runs never share one.
  const configFile = join(options.root, `.firebase-emulators-${process.pid}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  writeLocalSecrets(options.root);

  const e = config.emulators;
  const args = ["emulators:start", "--project", PROJECT_ID, "--only", options.only.join(","), "--config", configFile];
  if (options.dataDir) {
    // --import fails on a folder that does not exist yet; the first run only exports.
    if (existsSync(options.dataDir)) args.push("--import", options.dataDir);
    args.push("--export-on-exit", options.dataDir);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    ...offlineGoogleAuth,
    // firebase-tools runs `java` from PATH and refuses one older than 21.
    PATH: `${join(options.java.home, "bin")}${delimiter}${process.env.PATH ?? ""}`,
    JAVA_HOME: options.java.home,
  };
  if (options.firestoreJar.kind === "override") env.FIRESTORE_EMULATOR_BINARY_PATH = options.firestoreJar.path;

  const firebaseBin = join(options.root, "node_modules", ".bin", "firebase");
  const managed: Managed = startGroup("emulators", firebaseBin, args, {
    cwd: options.root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail: string[] = [];
  const keep = (line: string) => {
    tail = [...tail.slice(-59), line];
  };
  if ("file" in options.output) {
    const file = createWriteStream(options.output.file);
    pipeWithPrefix(managed, (line) => {
      keep(line);
      file.write(`${line}\n`);
    });
  } else {
    const write = options.output.write;
    pipeWithPrefix(managed, (line) => {
      keep(line);
      write(line);
    });
  }

  const hubUrl = `http://${e.hub.host}:${e.hub.port}`;
  const functionsUrl = `http://${e.functions.host}:${e.functions.port}/${PROJECT_ID}/${FUNCTIONS_REGION}`;
  const stop = async () => {
    await stopGroup(managed, { graceMs: 20_000, leaderSignal: "SIGINT" });
    rmSync(configFile, { force: true });
  };

  try {
    await pollUntil(
      `Firebase emulators (${options.only.join(", ")})`,
      async () => {
        const running = runningSchema.parse(await (await fetch(`${hubUrl}/emulators`)).json());
        return options.only.every((name) => name in running);
      },
      { timeoutMs: 120_000, gaveUp: managed.exited },
    );
    if (options.only.includes("functions")) {
      await pollUntil(
        "the functions in functions/lib",
        async () => {
          const url = `http://${e.functions.host}:${e.functions.port}/backends`;
          const { backends } = backendsSchema.parse(await (await fetch(url)).json());
          return backends.some((backend) => backend.functionTriggers.length > 0);
        },
        { timeoutMs: 60_000, gaveUp: managed.exited },
      );
    }
  } catch (error) {
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${message}\n${explain(options.firestoreJar)}\nLast lines of the emulators' output:\n${tail.join("\n")}`,
    );
  }

  return {
    functionsUrl,
    env: {
      ...offlineGoogleAuth,
      GCLOUD_PROJECT: PROJECT_ID,
      FIREBASE_EMULATOR_HUB: `${e.hub.host}:${e.hub.port}`,
      FIRESTORE_EMULATOR_HOST: `${e.firestore.host}:${e.firestore.port}`,
      FIREBASE_AUTH_EMULATOR_HOST: `${e.auth.host}:${e.auth.port}`,
      WHATSDEX_FUNCTIONS_URL: functionsUrl,
    },
    stop,
  };
}

function explain(jar: FirestoreJar): string {
  if (jar.kind === "download") {
    return (
      "firebase-tools had to download the Cloud Firestore emulator, which needs internet. Offline, install the " +
      "Google Cloud SDK's emulator (Debian/Ubuntu: `apt-get install google-cloud-cli-firestore-emulator`) or set " +
      "FIRESTORE_EMULATOR_BINARY_PATH to an emulator jar."
    );
  }
  return `The Firestore emulator ran from ${jar.path}${jar.kind === "override" ? ` (${jar.note})` : ""}.`;
}
