import type { AuthenticationCreds, BinaryNode } from "baileys";
import { z } from "zod";
import type { Account, Device, Directory } from "../accounts/directory.ts";
import type { KeyPair } from "../noise/noise-responder.ts";
import type { SavedPhone } from "../phone/simulated-phone.ts";

/**
 * What the local server keeps across restarts (`--state`): its root key (so runners keep trusting
 * it), the accounts with their linked devices and key bundles (so linked bots log in again), and
 * each phone's identity and Signal store (so conversations keep decrypting). Groups and media are
 * not kept: a restart starts them empty.
 */
const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, "must be bytes");
const keyPair = z.object({ public: bytes, private: bytes });
function isBinaryNode(value: unknown): value is BinaryNode {
  if (typeof value !== "object" || value === null || !("tag" in value) || !("attrs" in value)) return false;
  if (typeof value.tag !== "string" || typeof value.attrs !== "object" || value.attrs === null) return false;
  if (!Object.values(value.attrs).every((attr) => typeof attr === "string")) return false;
  if (!("content" in value) || value.content === undefined) return true;
  const { content } = value;
  return (
    content instanceof Uint8Array ||
    typeof content === "string" ||
    (Array.isArray(content) && content.every(isBinaryNode))
  );
}
const binaryNode = z.custom<BinaryNode>(isBinaryNode, "must be a binary node");
/** Baileys' creds are Baileys' business; the checks are what a phone cannot work without. */
const creds = z.custom<AuthenticationCreds>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    "registrationId" in value &&
    typeof value.registrationId === "number" &&
    "signedIdentityKey" in value &&
    keyPair.safeParse(value.signedIdentityKey).success &&
    "signedPreKey" in value &&
    typeof value.signedPreKey === "object",
  "must be a phone's Baileys credentials",
);

const deviceSchema = z.object({
  id: z.number().int().min(0),
  keyIndex: z.number().int().min(0),
  noiseKey: bytes.optional(),
  keys: z.object({
    registrationId: z.number().int(),
    identityKey: bytes,
    signedPreKey: z.object({ keyId: z.number().int(), publicKey: bytes, signature: bytes }),
    preKeys: z.array(z.tuple([z.number().int(), bytes])),
  }),
  offline: z.array(binaryNode),
});

export const snapshotSchema = z.object({
  version: z.literal(1),
  rootKey: keyPair,
  accounts: z.array(
    z.object({
      pn: z.string().regex(/^\d{6,15}$/),
      lid: z.string().regex(/^\d{1,20}$/),
      pushName: z.string(),
      companionIdsIssued: z.number().int().min(0),
      devices: z.array(deviceSchema),
    }),
  ),
  phones: z.array(z.object({ pn: z.string(), creds, keys: z.array(z.tuple([z.string(), z.unknown()])) })),
});
export type ServerSnapshot = z.infer<typeof snapshotSchema>;

export function accountSnapshot(account: Account): ServerSnapshot["accounts"][number] {
  return {
    pn: account.pn,
    lid: account.lid,
    pushName: account.pushName,
    companionIdsIssued: account.companionIdsIssued,
    devices: [...account.devices.values()].map((device) => ({
      id: device.id,
      keyIndex: device.keyIndex,
      ...(device.noiseKey ? { noiseKey: device.noiseKey } : {}),
      keys: { ...device.keys, preKeys: [...device.keys.preKeys.entries()] },
      offline: device.offline,
    })),
  };
}

/** Puts the snapshot's accounts and devices back into an empty directory (endpoints attach later). */
export function restoreAccounts(directory: Directory, saved: ServerSnapshot["accounts"]): void {
  for (const entry of saved) {
    const account = directory.create(entry.pn, entry.pushName, entry.lid);
    account.restoreCompanionIds(entry.companionIdsIssued);
    for (const device of entry.devices) {
      const restored: Device = {
        id: device.id,
        keyIndex: device.keyIndex,
        keys: { ...device.keys, preKeys: new Map(device.keys.preKeys) },
        offline: device.offline,
      };
      if (device.noiseKey) restored.noiseKey = device.noiseKey;
      account.devices.set(device.id, restored);
    }
  }
}

export function snapshotOf(input: {
  rootKey: KeyPair;
  accounts: Iterable<Account>;
  phones: Iterable<{ pn: string; saved: SavedPhone }>;
}): ServerSnapshot {
  return {
    version: 1,
    rootKey: input.rootKey,
    accounts: [...input.accounts].map(accountSnapshot),
    phones: [...input.phones].map(({ pn, saved }) => ({ pn, ...saved })),
  };
}
