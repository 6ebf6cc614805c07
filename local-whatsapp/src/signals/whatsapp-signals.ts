import type { BinaryNode } from "baileys";
import { S_WHATSAPP_NET } from "baileys";

/**
 * WhatsApp's warnings and refusals about a number, as its server sends them (see Baileys 7's
 * messages-recv.js): the new-chat quota and its warnings and the reach-out time lock arrive as
 * `mex` notifications carrying GraphQL payloads; a refused message comes back as an ack with
 * error 463. The campaign governor (ADR 24) reacts to exactly these.
 */
export interface CappingSignal {
  status: "NONE" | "FIRST_WARNING" | "SECOND_WARNING" | "CAPPED";
  used?: number | undefined;
  total?: number | undefined;
  cycleEndsAt?: Date | undefined;
}

export interface ReachoutLockSignal {
  active: boolean;
  endsAt?: Date | undefined;
  type: string;
}

let sequence = 0;
const seconds = (date: Date) => String(Math.floor(date.getTime() / 1_000));

function mexNotification(opName: string, data: Record<string, unknown>): BinaryNode {
  return {
    tag: "notification",
    attrs: { from: S_WHATSAPP_NET, type: "mex", id: `signal.${++sequence}`, t: seconds(new Date()) },
    content: [{ tag: "update", attrs: { op_name: opName }, content: Buffer.from(JSON.stringify({ data })) }],
  };
}

export function cappingNotification(signal: CappingSignal): BinaryNode {
  return mexNotification("MessageCappingInfoNotification", {
    xwa2_notify_new_chat_messages_capping_info_update: {
      capping_status: signal.status,
      ...(signal.used === undefined ? {} : { used_quota: signal.used }),
      ...(signal.total === undefined ? {} : { total_quota: signal.total }),
      ...(signal.cycleEndsAt ? { cycle_end_timestamp: seconds(signal.cycleEndsAt) } : {}),
      server_sent_timestamp: seconds(new Date()),
    },
  });
}

export function reachoutLockNotification(signal: ReachoutLockSignal): BinaryNode {
  return mexNotification("NotificationUserReachoutTimelockUpdate", {
    xwa2_notify_account_reachout_timelock: {
      is_active: signal.active,
      ...(signal.active && signal.endsAt ? { time_enforcement_ends: seconds(signal.endsAt) } : {}),
      enforcement_type: signal.type,
    },
  });
}

/** Per account (by number), how many of its next message sends the server refuses with 463. */
export class SendRefusals {
  readonly #remaining = new Map<string, number>();

  refuseNext(pn: string, sends: number): void {
    this.#remaining.set(pn, (this.#remaining.get(pn) ?? 0) + sends);
  }

  /** Whether this send is refused (and counted). */
  take(pn: string): boolean {
    const left = this.#remaining.get(pn) ?? 0;
    if (left <= 0) return false;
    if (left === 1) this.#remaining.delete(pn);
    else this.#remaining.set(pn, left - 1);
    return true;
  }
}
