import { Text } from "ink";
import type { ReactNode } from "react";
import type { DashboardState } from "./dashboard.ts";
import { h } from "./h.ts";

/** The header: where the data comes from and whether each source answers, problems spelled out. */
export function StatusBar(props: { state: DashboardState }): ReactNode {
  const { state } = props;
  const { sources } = state;
  const mark = (ok: boolean | undefined) =>
    ok === undefined ? h(Text, { dimColor: true }, "…") : h(Text, { color: ok ? "green" : "red" }, ok ? "ok" : "down");
  return h(
    Text,
    { wrap: "truncate-end" },
    h(Text, { bold: true, color: "cyan" }, "WhatsDeX TUI"),
    h(Text, { dimColor: true }, ` project ${sources.project} · Firestore ${sources.firestore} `),
    mark(state.firestore?.reachable),
    h(Text, { dimColor: true }, " · Redis "),
    mark(state.queues.kind === "loading" ? undefined : state.queues.kind === "ok"),
    h(Text, { dimColor: true }, " · runner "),
    mark(state.runner.kind === "loading" ? undefined : state.runner.kind === "up"),
  );
}

/** Lines under the header for what is wrong, each with what to do; none when all is well. */
export function problems(state: DashboardState): string[] {
  const lines: string[] = [];
  if (state.firestore && !state.firestore.reachable) {
    lines.push(
      `Firestore emulator not answering at ${state.sources.firestore} (${state.firestore.error ?? "no answer"}): start it with \`npm run dev\`, or set FIRESTORE_EMULATOR_HOST.`,
    );
  }
  if (state.firestoreError) lines.push(`Firestore: ${state.firestoreError}`);
  return lines;
}
