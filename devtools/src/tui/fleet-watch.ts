import {
  botDocSchema,
  botPath,
  collections,
  leaseDocSchema,
  leasePath,
  linkingDocSchema,
  outboxCollectionPath,
  tenantPath,
} from "@whatsdex/core";
import type { DocumentSnapshot, Firestore, QueryDocumentSnapshot } from "firebase-admin/firestore";

export interface LeaseView {
  owner: string | null;
  generation: number;
  expiresAt: Date;
}

/** One bot as the TUI lists it, from its document, its lease and its outbox. */
export interface FleetBot {
  /** `tenantId/botId`. */
  key: string;
  tenantId: string;
  botId: string;
  name: string;
  transport: string;
  /** The WhatsApp number once linked: how a phone (the chat pane) reaches the bot. */
  phoneNumber: string | null;
  desiredState: string;
  state: string;
  reason: string | null;
  /** Set when the document is not a valid bot (which fields are wrong); the row says so. */
  problem: string | null;
  /** undefined until read; null when there is no lease document (never run). */
  lease: LeaseView | null | undefined;
  /** Outbox items pending or being processed; undefined until read. */
  outboxDepth: number | undefined;
}

export interface Linking {
  qr: { code: string; expiresAt: Date } | null;
  pairingCode: { code: string; expiresAt: Date } | null;
}

export type LinkingView =
  | { kind: "none" }
  | { kind: "loading"; key: string }
  | { kind: "read"; key: string; linking: Linking }
  | { kind: "error"; key: string; message: string };

/** The fields of the bot document the TUI shows, parsed with the product's own schema. */
const botViewSchema = botDocSchema.pick({
  name: true,
  transport: true,
  phoneNumber: true,
  desiredState: true,
  status: true,
});

const activeOutboxStatuses = ["pending", "processing"] as const;

export interface FleetWatchOptions {
  /** Only these tenants' bots; every tenant's (a collection-group listener) when absent. */
  tenants?: readonly string[] | undefined;
  onBots(bots: readonly FleetBot[]): void;
  onLinking(linking: LinkingView): void;
  onError(message: string): void;
}

interface Watched {
  bot: FleetBot;
  unsubscribe: Array<() => void>;
}

/**
 * Live listeners on the bots and, per bot, on its lease document and its active outbox items;
 * the linking document (QR and pairing codes, owners' and admins' eyes only) only for the one bot
 * selected, because only that one is shown.
 */
export class FleetWatch {
  readonly #db: Firestore;
  readonly #options: FleetWatchOptions;
  readonly #bots = new Map<string, Watched>();
  #roots: Array<() => void> = [];
  #linking: { key: string; unsubscribe: () => void } | undefined;
  /** The bot selected, whose linking document is listened to once the bot is known. */
  #wanted: string | undefined;
  #emitQueued = false;
  #closed = false;

  constructor(db: Firestore, options: FleetWatchOptions) {
    this.#db = db;
    this.#options = options;
  }

  start(): void {
    const onError = (error: Error) => this.#options.onError(`bots listener: ${error.message}`);
    if (this.#options.tenants) {
      for (const tenantId of this.#options.tenants) {
        const query = this.#db.collection(`${tenantPath(tenantId)}/${collections.bots}`);
        this.#roots.push(query.onSnapshot((snapshot) => this.#onBotDocs(snapshot.docChanges()), onError));
      }
    } else {
      const query = this.#db.collectionGroup(collections.bots);
      this.#roots.push(query.onSnapshot((snapshot) => this.#onBotDocs(snapshot.docChanges()), onError));
    }
  }

  /** Shows the linking codes of `key` (`tenantId/botId`) from now on, once that bot is read; undefined shows none. */
  select(key: string | undefined): void {
    this.#wanted = key;
    this.#applySelection();
  }

  #applySelection(): void {
    const key = this.#wanted;
    const bot = key ? this.#bots.get(key)?.bot : undefined;
    if (this.#linking && this.#linking.key === key && bot) return;
    this.#linking?.unsubscribe();
    this.#linking = undefined;
    if (!key || !bot) {
      this.#options.onLinking({ kind: "none" });
      return;
    }
    this.#options.onLinking({ kind: "loading", key });
    const ref = this.#db.doc(`${botPath(bot.tenantId, bot.botId)}/${collections.linking}/current`);
    const unsubscribe = ref.onSnapshot(
      (snapshot) => this.#options.onLinking(linkingView(key, snapshot)),
      (error) => this.#options.onLinking({ kind: "error", key, message: error.message }),
    );
    this.#linking = { key, unsubscribe };
  }

  close(): void {
    this.#closed = true;
    for (const unsubscribe of this.#roots) unsubscribe();
    this.#roots = [];
    for (const watched of this.#bots.values()) for (const unsubscribe of watched.unsubscribe) unsubscribe();
    this.#bots.clear();
    this.#linking?.unsubscribe();
    this.#linking = undefined;
  }

  #onBotDocs(changes: ReadonlyArray<{ type: string; doc: QueryDocumentSnapshot }>): void {
    for (const { type, doc } of changes) {
      const tenant = doc.ref.parent.parent;
      // A collection group also matches a `bots` collection anywhere else; only tenants' bots count.
      if (!tenant || tenant.parent.id !== collections.tenants || tenant.parent.parent !== null) continue;
      const key = `${tenant.id}/${doc.id}`;
      const watched = this.#bots.get(key);
      if (type === "removed") {
        if (watched) for (const unsubscribe of watched.unsubscribe) unsubscribe();
        this.#bots.delete(key);
        continue;
      }
      const bot = botRow(key, tenant.id, doc, watched?.bot);
      if (watched) watched.bot = bot;
      else this.#bots.set(key, { bot, unsubscribe: this.#watchBot(key, bot) });
    }
    this.#emit();
  }

  #watchBot(key: string, bot: FleetBot): Array<() => void> {
    let lease: string;
    let outbox: string;
    try {
      lease = leasePath(bot.tenantId, bot.botId);
      outbox = outboxCollectionPath(bot.tenantId, bot.botId);
    } catch {
      return []; // an id the product would never make: the row shows the document as it is
    }
    const update = (patch: Partial<FleetBot>) => {
      const watched = this.#bots.get(key);
      if (!watched) return;
      watched.bot = { ...watched.bot, ...patch };
      this.#emit();
    };
    const onError = (what: string) => (error: Error) => this.#options.onError(`${what} of ${key}: ${error.message}`);
    return [
      this.#db.doc(lease).onSnapshot((snapshot) => update({ lease: leaseView(snapshot) }), onError("lease")),
      this.#db
        .collection(outbox)
        .where("status", "in", activeOutboxStatuses)
        .onSnapshot((snapshot) => update({ outboxDepth: snapshot.size }), onError("outbox")),
    ];
  }

  /** Listener callbacks come in bursts (one per bot at start): one render per burst. */
  #emit(): void {
    if (this.#emitQueued) return;
    this.#emitQueued = true;
    queueMicrotask(() => {
      this.#emitQueued = false;
      if (this.#closed) return;
      const bots = [...this.#bots.values()].map((watched) => watched.bot);
      bots.sort(
        (a, b) =>
          a.tenantId.localeCompare(b.tenantId) || a.name.localeCompare(b.name) || a.botId.localeCompare(b.botId),
      );
      this.#options.onBots(bots);
      // The selected bot has just been read (or removed): start (or end) its linking listener.
      const known = this.#wanted !== undefined && this.#bots.has(this.#wanted);
      const listening = this.#linking !== undefined && this.#linking.key === this.#wanted;
      if (known !== listening) this.#applySelection();
    });
  }
}

function botRow(key: string, tenantId: string, doc: QueryDocumentSnapshot, previous: FleetBot | undefined): FleetBot {
  const base = { key, tenantId, botId: doc.id, lease: previous?.lease, outboxDepth: previous?.outboxDepth };
  const parsed = botViewSchema.safeParse(doc.data());
  if (parsed.success) {
    const { name, transport, phoneNumber, desiredState, status } = parsed.data;
    return {
      ...base,
      name,
      transport,
      phoneNumber,
      desiredState,
      state: status.state,
      reason: status.reason,
      problem: null,
    };
  }
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(document)"))].join(", ");
  return {
    ...base,
    name: typeof doc.get("name") === "string" ? String(doc.get("name")) : doc.id,
    transport: "?",
    phoneNumber: null,
    desiredState: "?",
    state: "malformed",
    reason: null,
    problem: `not a valid bot document: ${fields}`,
  };
}

function leaseView(snapshot: DocumentSnapshot): LeaseView | null {
  if (!snapshot.exists) return null;
  const parsed = leaseDocSchema.safeParse(snapshot.data());
  if (!parsed.success) return null;
  const { owner, generation, expiresAt } = parsed.data;
  return { owner, generation, expiresAt: expiresAt.toDate() };
}

function linkingView(key: string, snapshot: DocumentSnapshot): LinkingView {
  if (!snapshot.exists) return { kind: "read", key, linking: { qr: null, pairingCode: null } };
  const parsed = linkingDocSchema.safeParse(snapshot.data());
  if (!parsed.success) return { kind: "error", key, message: `malformed linking document ${snapshot.ref.path}` };
  const { qr, pairingCode } = parsed.data;
  return {
    kind: "read",
    key,
    linking: {
      qr: qr ? { code: qr.code, expiresAt: qr.expiresAt.toDate() } : null,
      pairingCode: pairingCode ? { code: pairingCode.code, expiresAt: pairingCode.expiresAt.toDate() } : null,
    },
  };
}
