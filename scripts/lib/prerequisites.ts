import { fileURLToPath } from "node:url";
import { type FirestoreJar, locateFirestoreJar } from "./firestore-jar.ts";
import { findJava, type Java, MIN_JAVA } from "./java.ts";
import { redisUnavailable } from "./redis.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Prerequisites {
  java: Java;
  firestoreJar: FirestoreJar;
}

/**
 * Everything the emulators need, checked up front: when something is missing, one message says
 * all of what is missing and how to install it, instead of a stack trace from deep inside a tool.
 */
export async function checkPrerequisites(): Promise<Prerequisites> {
  const problems: string[] = [];
  const major = Number(process.versions.node.split(".")[0]);
  if (major !== 24) {
    problems.push(
      `Node.js 24 is needed, this is ${process.version}. Run \`npm install\` first: it installs Node 24 into ` +
        "node_modules, and every `npm run` script then uses it.",
    );
  }
  const java = findJava();
  if (!java) {
    problems.push(
      `Java ${MIN_JAVA} or newer is needed for the Firestore emulator and none was found (JAVA_HOME, PATH, ` +
        "/usr/lib/jvm). Install one (Debian/Ubuntu: `apt-get install -y openjdk-21-jre-headless`, or Temurin 21+; " +
        "macOS: `brew install openjdk@21`) or point JAVA_HOME at it.",
    );
  }
  const redisProblem = await redisUnavailable();
  if (redisProblem) problems.push(redisProblem);
  if (problems.length > 0 || !java) {
    throw new Error(`Cannot start the services the project needs:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return { java, firestoreJar: locateFirestoreJar(ROOT, java) };
}
