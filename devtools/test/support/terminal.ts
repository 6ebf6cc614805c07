import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uniqueId, waitFor } from "@whatsdex/core/testing";

const TMUX = "/usr/bin/tmux";
const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * A program running in a real terminal: a tmux server of its own (its own socket, so `stop` ends
 * that server and nothing else), a size, an environment of exactly `env`, keys sent with
 * send-keys and the screen read with capture-pane.
 */
export class Terminal {
  readonly #socket = uniqueId("terminal");
  readonly #dir = mkdtempSync(join(tmpdir(), "whatsdex-terminal-"));
  readonly #session = "main";

  constructor(command: readonly string[], env: Readonly<Record<string, string>>, size = { columns: 160, rows: 50 }) {
    if (!existsSync(TMUX))
      throw new Error("Terminal tests run programs in tmux: install it (apt-get install -y tmux).");
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`);
    // The exit code is written once the program has ended: proof that it ended by itself.
    const shell = [
      `env -i ${assignments.join(" ")} ${command.map(quote).join(" ")} 2>${quote(join(this.#dir, "stderr"))};`,
      `echo $? > ${quote(join(this.#dir, "exit-code"))}`,
    ].join(" ");
    const { columns, rows } = size;
    this.#tmux("new-session", "-d", "-s", this.#session, "-x", String(columns), "-y", String(rows), shell);
  }

  screen(): string {
    return this.#tmux("capture-pane", "-p", "-t", this.#session);
  }

  /** The screen once `ready` accepts it; a timeout names `what` and shows the last screen. */
  async screenWhere(what: string, ready: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    let last = "";
    try {
      return await waitFor(
        what,
        async () => {
          last = this.screen();
          return ready(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 200 },
      );
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : error}\nlast screen:\n${last}`);
    }
  }

  /** tmux key names: "q", "j", "C-c", "Enter". */
  keys(...keys: string[]): void {
    this.#tmux("send-keys", "-t", this.#session, ...keys);
  }

  /** The program's exit code, once it has exited. */
  exited(timeoutMs = 15_000): Promise<number> {
    const file = join(this.#dir, "exit-code");
    return waitFor(
      "the program to exit",
      async () => (existsSync(file) ? Number(readFileSync(file, "utf8")) : undefined),
      {
        timeoutMs,
      },
    );
  }

  stderr(): string {
    const file = join(this.#dir, "stderr");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  stop(): void {
    try {
      this.#tmux("kill-server");
    } catch {
      // already gone: the program ended, and its session and server with it
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #tmux(...args: string[]): string {
    return execFileSync(TMUX, ["-L", this.#socket, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }
}
