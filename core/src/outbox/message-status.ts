import type { Timestamp } from "firebase-admin/firestore";
import type { MessageStatus } from "../events/schema.ts";
import type { SendItem } from "./schema.ts";

/** A receipt from the recipient's device: each moves a sent message forward, never back. */
export type Receipt = "delivered" | "read";

/**
 * A send's status as the message API and `message.status` events report it: the outbox's own
 * status until the send returned, then the furthest receipt. A send recorded as indeterminate (its
 * runner could not tell) that later gets a receipt did go out, and says so.
 */
export function messageStatusOf(item: Pick<SendItem, "status" | "deliveredAt" | "readAt">): MessageStatus {
  if (item.status === "failed") return "failed";
  if (item.readAt) return "read";
  if (item.deliveredAt) return "delivered";
  switch (item.status) {
    case "pending":
      return "queued";
    case "processing":
      return "sending";
    case "done":
      return "sent";
    case "indeterminate":
      return "indeterminate";
  }
}

/** The item with `receipt` applied at `at`, or undefined when it changes nothing (a late or repeated receipt). */
export function withReceipt<T extends SendItem>(item: T, receipt: Receipt, at: Timestamp): T | undefined {
  // A message that failed never left; a receipt naming its id is not about it.
  if (item.status === "failed" || item.status === "pending") return undefined;
  if (receipt === "delivered") return item.deliveredAt || item.readAt ? undefined : { ...item, deliveredAt: at };
  if (item.readAt) return undefined;
  // Read implies delivered: a device that skipped the delivery receipt still received it.
  return { ...item, readAt: at, deliveredAt: item.deliveredAt ?? at };
}
