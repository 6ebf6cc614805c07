import { z } from "zod";
import { apiKeyScopeSchema, roleSchema } from "../access/roles.ts";

/** Bumped when the export's shape changes in a way a reader must know about. */
export const TENANT_EXPORT_FORMAT = "whatsdex.tenant-export.v1";

const iso = z.iso.datetime();
/** A stored document as JSON (timestamps as ISO strings), with its id. */
const storedDocument = z.record(z.string(), z.json());

const chatExport = z.object({
  id: z.string(),
  chat: storedDocument,
  messages: z.array(storedDocument),
});

const botExport = z.object({
  id: z.string(),
  name: z.string(),
  transport: z.string(),
  phoneNumber: z.string().nullable(),
  desiredState: z.string(),
  status: z.object({ state: z.string(), reason: z.string().nullable(), updatedAt: iso }),
  settings: storedDocument,
  keepOnDowngrade: z.boolean(),
  createdBy: z.string(),
  createdAt: iso,
  updatedAt: iso,
  /** WhatsApp users the bot knows (its person store). */
  contacts: z.array(storedDocument),
  groups: z.array(storedDocument),
  bans: z.array(storedDocument),
  aiMemory: z.array(storedDocument),
  /** The message store, when the bot kept one. */
  chats: z.array(chatExport),
});

/**
 * `GET /v1/tenants/{t}/export`: what the tenant owns, as one JSON document. Never in it: the bots'
 * WhatsApp credentials and Signal keys, QR and pairing codes, API keys' hashes, webhook signing
 * secrets, queued work (the outbox, stored webhook events), or media bytes (named by reference).
 */
export const tenantExportSchema = z
  .object({
    format: z.literal(TENANT_EXPORT_FORMAT),
    exportedAt: iso,
    tenant: storedDocument,
    members: z.array(z.object({ uid: z.string(), email: z.string().nullable(), role: roleSchema, createdAt: iso })),
    invitations: z.array(storedDocument),
    apiKeys: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        prefix: z.string(),
        scopes: z.array(apiKeyScopeSchema),
        createdBy: z.string(),
        createdAt: iso,
        lastUsedAt: iso.nullable(),
        revokedAt: iso.nullable(),
      }),
    ),
    webhooks: z.array(
      z.object({
        id: z.string(),
        url: z.string(),
        events: z.array(z.string()),
        description: z.string().nullable(),
        enabled: z.boolean(),
        createdAt: iso,
      }),
    ),
    bots: z.array(botExport),
    /** The tenant's contacts (numbers, names, tags, fields, opt-outs) and the reports of their CSV imports. */
    contacts: z.array(storedDocument),
    contactImports: z.array(storedDocument),
    templates: z.array(storedDocument),
    campaigns: z.array(storedDocument),
    /** Every campaign's recipients and where each stands, named by `campaignId`. */
    campaignRecipients: z.array(storedDocument),
    usage: z.array(storedDocument),
    audit: z.array(storedDocument),
    deadLetters: z.array(storedDocument),
    media: z.array(
      z.object({
        kind: z.enum(["transit", "uploads", "inbound", "templates"]),
        botId: z.string().nullable(),
        id: z.string(),
        contentType: z.string().nullable(),
        bytes: z.number().int(),
        createdAt: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "TenantExport" });
export type TenantExportDocument = z.output<typeof tenantExportSchema>;
