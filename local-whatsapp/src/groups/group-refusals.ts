/**
 * How WhatsApp refuses a group query, as `<error code text/>` (the codes whatsmeow names for the
 * same queries: 404 no such group, 403 not in it, 401 not an admin, 406/410 a bad or revoked invite).
 */
const REFUSALS = {
  badRequest: { code: 400, text: "bad-request" },
  notAdmin: { code: 401, text: "not-authorized" },
  notInGroup: { code: 403, text: "forbidden" },
  groupNotFound: { code: 404, text: "item-not-found" },
  notAcceptable: { code: 406, text: "not-acceptable" },
  conflict: { code: 409, text: "conflict" },
  inviteRevoked: { code: 410, text: "gone" },
} as const;

export type RefusalReason = keyof typeof REFUSALS;

/** A group query or action the server refuses; the query layer answers it as an iq error. */
export class GroupRefusal extends Error {
  readonly reason: RefusalReason;
  readonly code: number;
  readonly text: string;

  constructor(reason: RefusalReason, detail?: string) {
    const { code, text } = REFUSALS[reason];
    super(detail ? `${code} ${text}: ${detail}` : `${code} ${text}`);
    this.reason = reason;
    this.code = code;
    this.text = text;
  }
}

/**
 * Per-participant outcomes of add/remove/promote/demote, as `<participant error>` (absent on 200).
 * 409: already in the group; 404: not on WhatsApp, or not a participant; 500: the group is full.
 */
export type ParticipantStatus = "200" | "404" | "409" | "500";
