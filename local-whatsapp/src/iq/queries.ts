import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren, jidEncode } from "baileys";
import type { Account, Device, Directory } from "../accounts/directory.ts";
import type { GroupOperations } from "../groups/group-operations.ts";
import { groupQueries } from "../groups/group-queries.ts";
import { mediaConnection } from "../media/media-conn-query.ts";
import type { MediaServer } from "../media/media-server.ts";
import { keyBundleNode, readKeyUpload, readSignedPreKey } from "./key-bundles.ts";

/** A query the server refuses, answered as `<error code text/>` so the client fails fast. */
export class IqError extends Error {
  readonly code: number;
  readonly text: string;

  constructor(code: number, text: string) {
    super(`${code} ${text}`);
    this.code = code;
    this.text = text;
  }
}

/** What a logged-in companion's queries may read and change. */
export interface QueryContext {
  directory: Directory;
  groups: GroupOperations;
  media: MediaServer;
  account: Account;
  device: Device;
  /** The companion unlinks itself (Baileys' `logout`). */
  removeCompanion(): void;
}

/** The answer's children, or undefined for a bare `type=result`. */
export type QueryAnswer = BinaryNode[] | undefined;

type Handler = (iq: BinaryNode, ctx: QueryContext) => QueryAnswer;

const child = (iq: BinaryNode) => (Array.isArray(iq.content) ? iq.content[0] : undefined);

/**
 * Every query a Baileys 7 companion makes in a session, answered as WhatsApp's server does, keyed
 * by `xmlns` and the first child's tag. Anything else is refused with 501 (and the server logs it),
 * so a missing answer shows up in the test log instead of as a 60-second hang.
 */
const HANDLERS: Record<string, Handler> = {
  "w:p/ping": () => undefined,
  "passive/active": () => undefined,
  "passive/passive": () => undefined,
  "encrypt/count": (_iq, { device }) => [{ tag: "count", attrs: { value: String(device.keys.preKeys.size) } }],
  "encrypt/registration": (iq, { device }) => {
    readKeyUpload(iq, device.keys);
    return undefined;
  },
  "encrypt/digest": () => [{ tag: "digest", attrs: {} }],
  "encrypt/rotate": (iq, { device }) => {
    const skey = getBinaryNodeChild(child(iq), "skey");
    if (!skey) throw new IqError(400, "bad-request");
    readSignedPreKey(skey, device.keys);
    return undefined;
  },
  "encrypt/key": (iq, { directory }) => {
    const users = getBinaryNodeChildren(child(iq), "user").map((user) => {
      const jid = user.attrs.jid ?? "";
      const target = directory.resolve(jid);
      const device = target?.account.devices.get(target.device);
      if (!device)
        return {
          tag: "user",
          attrs: { jid },
          content: [{ tag: "error", attrs: { code: "404", text: "item-not-found" } }],
        };
      return keyBundleNode(jid, device);
    });
    return [{ tag: "list", attrs: {}, content: users }];
  },
  "usync/usync": (iq, { directory }) => usync(iq, directory),
  "abt/props": () => [{ tag: "props", attrs: { protocol: "1", hash: "local" }, content: [] }],
  "w/props": () => [{ tag: "props", attrs: { protocol: "2", hash: "local" }, content: [] }],
  "privacy/privacy": () => [
    {
      tag: "privacy",
      attrs: {},
      content: ["last", "online", "profile", "status", "readreceipts", "groupadd", "calladd", "messages"].map(
        (name) => ({
          tag: "category",
          attrs: { name, value: name === "readreceipts" ? "all" : "contacts" },
        }),
      ),
    },
  ],
  "privacy/tokens": () => undefined,
  "blocklist/": () => [{ tag: "list", attrs: {} }],
  "blocklist/list": () => [{ tag: "list", attrs: {} }],
  "urn:xmpp:whatsapp:dirty/clean": () => undefined,
  "w:stats/add": () => undefined,
  "md/remove-companion-device": (_iq, ctx) => {
    ctx.removeCompanion();
    return undefined;
  },
  "w:sync:app:state/sync": (iq) => appStateSync(iq),
  ...groupQueries((code, text) => new IqError(code, text)),
  "w:m/media_conn": (_iq, ctx) => mediaConnection(ctx),
};

export function answerQuery(iq: BinaryNode, ctx: QueryContext): QueryAnswer {
  const key = `${iq.attrs.xmlns ?? ""}/${child(iq)?.tag ?? ""}`;
  const handler = HANDLERS[key];
  if (!handler) throw new IqError(501, `feature-not-implemented (${key})`);
  return handler(iq, ctx);
}

/**
 * User sync: for each user asked about (by jid, or by `+phone` in a contact query), the protocols
 * the query names — devices (the phone and its companions), the LID, whether they are on WhatsApp.
 */
function usync(iq: BinaryNode, directory: Directory): QueryAnswer {
  const usyncNode = child(iq);
  const protocols = (getBinaryNodeChild(usyncNode, "query")?.content ?? []) as BinaryNode[];
  const users = getBinaryNodeChildren(getBinaryNodeChild(usyncNode, "list"), "user");
  const results: BinaryNode[] = users.map((user) => {
    const contact = getBinaryNodeChild(user, "contact");
    const phone = contact?.content instanceof Uint8Array ? Buffer.from(contact.content).toString() : undefined;
    const jid = user.attrs.jid ?? (phone ? jidEncode(phone.replace(/^\+/, ""), "s.whatsapp.net") : "");
    const found = directory.resolve(jid);
    const content: BinaryNode[] = protocols.map((protocol) => {
      switch (protocol.tag) {
        case "devices":
          return {
            tag: "devices",
            attrs: {},
            content: [
              {
                tag: "device-list",
                attrs: {},
                content: [...(found?.account.devices.values() ?? [])].map((device) => ({
                  tag: "device",
                  attrs: {
                    id: String(device.id),
                    ...(device.id === 0 ? {} : { "key-index": String(device.keyIndex) }),
                  },
                })),
              },
            ],
          };
        case "lid":
          // A number's LID; a user asked about by LID has no other LID to tell.
          return { tag: "lid", attrs: found && found.server !== "lid" ? { val: found.account.lidJid } : {} };
        case "contact":
          return { tag: "contact", attrs: { type: found ? "in" : "out" } };
        default:
          return { tag: protocol.tag, attrs: {} };
      }
    });
    return { tag: "user", attrs: { jid }, content };
  });
  return [
    {
      tag: "usync",
      attrs: { ...usyncNode?.attrs },
      content: [
        { tag: "result", attrs: {} },
        { tag: "list", attrs: {}, content: results },
      ],
    },
  ];
}

/** App-state sync: every collection asked for is empty at version 0 (no chats, labels or contacts to sync). */
function appStateSync(iq: BinaryNode): QueryAnswer {
  const collections = getBinaryNodeChildren(child(iq), "collection");
  return [
    {
      tag: "sync",
      attrs: {},
      content: collections.map((collection) => ({
        tag: "collection",
        attrs: { name: collection.attrs.name ?? "", version: collection.attrs.version ?? "0" },
      })),
    },
  ];
}
