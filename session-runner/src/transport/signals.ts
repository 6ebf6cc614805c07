import type { WhatsAppSignal } from "@whatsdex/core";
import { SERVER_ERROR_CODES, WAMessageStatus } from "baileys";
import type { TransportEvents, TransportSocket } from "./transport.ts";

/**
 * WhatsApp's own verdicts on a number, read from the events Baileys emits (and the simulator emits
 * alike), as the typed signals the pacing governor records (ADR 24):
 * - `capping`: `message-capping.update`, the new-chat quota and FIRST_WARNING / SECOND_WARNING / CAPPED;
 * - `reachoutLock`: `connection.update`'s `reachoutTimeLock`, set or lifted;
 * - `sendRefused463`: a `messages.update` marking one of our sends ERROR with code 463 (Baileys
 *   reports the server's error ack that way; the send itself had already resolved);
 * - `linked`: `connection.update`'s `isNewLogin`, the number was linked just now.
 */
export type TransportSignal = WhatsAppSignal;

/** Baileys' cycle timestamps are strings of Unix seconds (milliseconds are taken as they are). */
function instant(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return null;
  const n = Number(value);
  return n < 1e12 ? n * 1000 : n;
}

export function cappingSignal(info: TransportEvents["message-capping.update"]): TransportSignal | undefined {
  // A payload without the verdict says nothing to act on (and must not clear an earlier warning).
  if (!info.capping_status) return undefined;
  return {
    kind: "capping",
    status: info.capping_status,
    used: info.used_quota ?? null,
    total: info.total_quota ?? null,
    cycleEndsAt: instant(info.cycle_end_timestamp),
  };
}

export function connectionSignals(update: TransportEvents["connection.update"]): TransportSignal[] {
  const signals: TransportSignal[] = [];
  if (update.isNewLogin) signals.push({ kind: "linked" });
  const lock = update.reachoutTimeLock;
  if (lock) {
    signals.push({
      kind: "reachoutLock",
      active: lock.isActive ?? false,
      endsAt: lock.timeEnforcementEnds ? lock.timeEnforcementEnds.getTime() : null,
      type: lock.enforcementType ?? null,
    });
  }
  return signals;
}

export function messageUpdateSignals(updates: TransportEvents["messages.update"]): TransportSignal[] {
  return updates
    .filter(
      ({ key, update }) =>
        key.fromMe !== false &&
        update.status === WAMessageStatus.ERROR &&
        update.messageStubParameters?.[0] === SERVER_ERROR_CODES.MessageAccountRestriction,
    )
    .map(({ key }) => ({ kind: "sendRefused463", messageId: key.id ?? null }));
}

/** Calls `listener` with each signal the socket's events carry, in the order they arrive. */
export function watchSignals(socket: TransportSocket, listener: (signal: TransportSignal) => void): void {
  socket.on("message-capping.update", (info) => {
    const signal = cappingSignal(info);
    if (signal) listener(signal);
  });
  socket.on("connection.update", (update) => {
    for (const signal of connectionSignals(update)) listener(signal);
  });
  socket.on("messages.update", (updates) => {
    for (const signal of messageUpdateSignals(updates)) listener(signal);
  });
}
