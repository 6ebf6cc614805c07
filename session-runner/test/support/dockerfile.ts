import { z } from "zod";

/** What the image's last stage says about how the container starts. */
export interface RuntimeStage {
  /** The value of the `NODE_IMAGE` build argument (the base image of every stage). */
  nodeImage: string | undefined;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  env: Map<string, string>;
  user: string | undefined;
  workdir: string | undefined;
}

const execForm = z.array(z.string());

/**
 * The last stage of a Dockerfile, read as Docker reads the few instructions we use: continuation
 * lines joined, comments dropped, exec-form (JSON) ENTRYPOINT/CMD, `ENV KEY=value` pairs.
 */
export function runtimeStage(dockerfile: string): RuntimeStage {
  const lines = dockerfile
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const instructions = lines.map((line) => {
    const [keyword = "", ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
  });
  const nodeImage = instructions
    .filter((i) => i.keyword === "ARG" && i.args.startsWith("NODE_IMAGE="))
    .map((i) => i.args.slice("NODE_IMAGE=".length))[0];
  const lastFrom = instructions.findLastIndex((i) => i.keyword === "FROM");
  const stage: RuntimeStage = {
    nodeImage,
    entrypoint: undefined,
    cmd: undefined,
    env: new Map(),
    user: undefined,
    workdir: undefined,
  };
  for (const { keyword, args } of instructions.slice(lastFrom + 1)) {
    if (keyword === "ENTRYPOINT") stage.entrypoint = execForm.parse(JSON.parse(args));
    if (keyword === "CMD") stage.cmd = execForm.parse(JSON.parse(args));
    if (keyword === "USER") stage.user = args;
    if (keyword === "WORKDIR") stage.workdir = args;
    if (keyword === "ENV") {
      for (const pair of args.split(/\s+/)) {
        const at = pair.indexOf("=");
        if (at > 0) stage.env.set(pair.slice(0, at), pair.slice(at + 1));
      }
    }
  }
  return stage;
}
