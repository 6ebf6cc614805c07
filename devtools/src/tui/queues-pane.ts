import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { h } from "./h.ts";
import { Cell, Pane } from "./pane.ts";
import type { QueueDepths } from "./queue-depths.ts";

/** BullMQ queue depths by job state. */
export function QueuesPane(props: { depths: QueueDepths; redisUrl: string; prefix: string; width: number }): ReactNode {
  const { depths } = props;
  const note = `${props.redisUrl} · prefix ${props.prefix}`;
  if (depths.kind === "loading") {
    return h(Pane, { title: "Job queues", note, width: props.width }, h(Text, { dimColor: true }, "reading Redis…"));
  }
  if (depths.kind === "down") {
    return h(
      Pane,
      { title: "Job queues", note, width: props.width },
      h(Text, { color: "red", wrap: "wrap" }, `Redis unreachable: ${depths.message}`),
      h(Text, { dimColor: true, wrap: "wrap" }, "Set REDIS_URL to the Redis `npm run dev` printed."),
    );
  }
  const column = 8;
  return h(
    Pane,
    { title: "Job queues", note, width: props.width },
    h(
      Box,
      null,
      h(Cell, { width: 9, dim: true }, "QUEUE"),
      ...["waiting", "active", "delayed", "failed", "done"].map((label) =>
        h(Cell, { key: label, width: column, dim: true }, label.toUpperCase()),
      ),
    ),
    ...depths.queues.map((queue) =>
      h(
        Box,
        { key: queue.queue },
        h(Cell, { width: 9 }, queue.queue),
        h(Cell, { width: column }, String(queue.counts.waiting + queue.counts.prioritized)),
        h(Cell, { width: column }, String(queue.counts.active)),
        h(Cell, { width: column }, String(queue.counts.delayed)),
        h(Cell, { width: column, ...(queue.counts.failed > 0 ? { color: "red" } : {}) }, String(queue.counts.failed)),
        h(Cell, { width: column, dim: true }, String(queue.counts.completed)),
      ),
    ),
  );
}
