import { Timestamp } from "firebase-admin/firestore";
import { describe, expect, it } from "vitest";
import { messageStatusOf, withReceipt } from "../src/outbox/message-status.ts";
import { pendingSendItem, type SendItem } from "../src/outbox/schema.ts";

const at = (ms: number) => Timestamp.fromMillis(ms);
const item = (patch: Partial<SendItem>): SendItem => ({
  ...pendingSendItem(
    { to: "6281111111111@s.whatsapp.net", content: { type: "text", text: "hi" }, requestedBy: "t" },
    at(0),
  ),
  messageId: "3EB0AAAA0001",
  ...patch,
});

describe("a message's status", () => {
  it("follows the outbox until the send returned, then the furthest receipt", () => {
    expect(messageStatusOf(item({ status: "pending" }))).toBe("queued");
    expect(messageStatusOf(item({ status: "processing" }))).toBe("sending");
    expect(messageStatusOf(item({ status: "done", sentAt: at(1) }))).toBe("sent");
    expect(messageStatusOf(item({ status: "done", deliveredAt: at(2) }))).toBe("delivered");
    expect(messageStatusOf(item({ status: "done", deliveredAt: at(2), readAt: at(3) }))).toBe("read");
    expect(messageStatusOf(item({ status: "failed" }))).toBe("failed");
    expect(messageStatusOf(item({ status: "indeterminate" }))).toBe("indeterminate");
  });

  it("moves only forwards: a late delivery after read, or a repeated receipt, changes nothing", () => {
    const sent = item({ status: "done", sentAt: at(1) });
    const delivered = withReceipt(sent, "delivered", at(2));
    expect(delivered).toMatchObject({ deliveredAt: at(2), readAt: null });
    if (!delivered) throw new Error("not delivered");
    expect(withReceipt(delivered, "delivered", at(5))).toBeUndefined();
    const read = withReceipt(delivered, "read", at(3));
    expect(read).toMatchObject({ deliveredAt: at(2), readAt: at(3) });
    if (!read) throw new Error("not read");
    expect(withReceipt(read, "delivered", at(4))).toBeUndefined();
    expect(withReceipt(read, "read", at(4))).toBeUndefined();
  });

  it("takes a read without a delivery as both, and proves an indeterminate send went out; a failed one ignores receipts", () => {
    expect(withReceipt(item({ status: "done" }), "read", at(7))).toMatchObject({ deliveredAt: at(7), readAt: at(7) });
    const unknown = item({ status: "indeterminate", error: { code: "send_timeout", message: "no ack" } });
    const proven = withReceipt(unknown, "delivered", at(8));
    expect(proven && messageStatusOf(proven)).toBe("delivered");
    expect(withReceipt(item({ status: "failed" }), "delivered", at(9))).toBeUndefined();
    expect(withReceipt(item({ status: "pending" }), "delivered", at(9))).toBeUndefined();
  });
});
