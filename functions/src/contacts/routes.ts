import { contactTagSchema, personIdSchema, principalId, resourceIdSchema, ValidationError } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import {
  contactImportSchema,
  contactSchema,
  optOutBody,
  patchContactBody,
  toContact,
  toContactImport,
  upsertContactBody,
} from "./dto.ts";
import { MAX_IMPORT_BYTES, receiveCsvFile } from "./import-body.ts";

const tag = "Contacts";
const contactParams = tenantParams.extend({ personId: personIdSchema });
const importParams = tenantParams.extend({ importId: resourceIdSchema });
const tagFilter = contactTagSchema.optional().meta({ description: "Only contacts with this tag." });

const importQuery = z.strictObject({
  tags: z
    .string()
    .max(500)
    .optional()
    .meta({ description: "Tags added to every imported contact, separated by `;`, `|` or `,` (at most 10)." }),
  overwrite: z.enum(["true", "false"]).optional().meta({
    description:
      "`true`: the file's name and custom fields replace an existing contact's. Default `false`: they only fill what is missing. Tags are always added, never removed; an opt-out is always kept.",
  }),
});

/** The import's `tags` option as tags, or a 400 naming `query.tags`. */
function importTags(text: string | undefined): string[] {
  const tags = (text ?? "")
    .split(/[;|,]/)
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const out: string[] = [];
  for (const raw of tags) {
    const parsed = contactTagSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ValidationError(`Invalid request: query.tags: "${raw.slice(0, 50)}" is not a tag`, [
        { path: "query.tags", message: "tags are 1-40 letters, digits, '-' or '_'" },
      ]);
    }
    out.push(parsed.data);
  }
  if (out.length > 10) {
    throw new ValidationError("Invalid request: query.tags: at most 10", [
      { path: "query.tags", message: "at most 10" },
    ]);
  }
  return [...new Set(out)];
}

/** The CSV an import reads and an export writes (the OpenAPI document's description of the file). */
const csvFile = z.string().meta({
  format: "binary",
  description:
    "CSV, UTF-8, with a header line. Columns by name, in any order and case: `phone` (with country code) and/or `lid`, `name`, `tags` (separated by `;` or `|`), `opted_out` (yes/no: yes opts the contact out; never back in); every other column is a custom field of that lower-cased name. `opted_out_at` (from an export) is ignored.",
});

/**
 * A tenant's contacts, shared by its bots: people's names and numbers, so owners, admins and
 * `admin`/`messages` keys only (`contacts:read`/`contacts:write`), not viewers.
 */
export const contactRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/contacts",
    operationId: "listContacts",
    summary: "List contacts, optionally one tag's, opted out or not",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:read",
    params: tenantParams,
    query: pageQuery.extend({
      tag: tagFilter,
      optedOut: z
        .enum(["true", "false"])
        .optional()
        .meta({ description: "`false`: only contacts a campaign may reach; `true`: only opted-out ones." }),
    }),
    responses: { 200: { description: "A page of contacts, by person id", schema: pageOf(contactSchema) } },
    async handle({ params, query, services }) {
      const page = await services.contacts.list(params.tenantId, {
        limit: query.limit,
        cursor: query.cursor,
        tag: query.tag,
        optedOut: query.optedOut === undefined ? undefined : query.optedOut === "true",
      });
      return {
        status: 200,
        body: { items: page.items.map((c) => toContact(c.id, c.data)), nextCursor: page.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/contacts",
    operationId: "upsertContact",
    summary: "Add a contact, or add to the one that exists",
    description:
      "By `phone` or `lid`. A contact already known (by that LID, by that number, or by its LID with that number) is updated: tags are added, `name` and the given `fields` replaced. 201 when created, 200 when updated.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: tenantParams,
    body: upsertContactBody,
    responses: {
      200: { description: "Updated", schema: contactSchema },
      201: { description: "Created", schema: contactSchema },
    },
    async handle(context) {
      const { params, body, services } = context;
      const { personId, contact, created } = await services.contacts.upsert(
        params.tenantId,
        body,
        auditContext(context),
      );
      return {
        status: created ? 201 : 200,
        body: toContact(personId, contact),
        ...(created ? { headers: { Location: `/v1/tenants/${params.tenantId}/contacts/${personId}` } } : {}),
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/contacts/export",
    operationId: "exportContacts",
    summary: "Every contact (or one tag's) as CSV, in the import's columns",
    description:
      "Columns: `phone`, `lid`, `name`, `tags`, each custom field, `opted_out`, `opted_out_at`. Imports back unchanged. Cells a spreadsheet would run as formulas start with `'` (the import takes it off). Streamed, as an attachment.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:read",
    params: tenantParams,
    query: z.strictObject({ tag: tagFilter }),
    responses: { 200: { description: "The CSV", contentType: "text/csv", schema: csvFile } },
    async handle({ params, query, services }) {
      const stream = await services.contactExport.open(params.tenantId, { tag: query.tag });
      const day = new Date().toISOString().slice(0, 10);
      return {
        status: 200,
        stream,
        headers: {
          "Content-Type": "text/csv; charset=utf-8",
          "Content-Disposition": `attachment; filename="contacts-${params.tenantId}-${day}.csv"`,
          "Cache-Control": "no-store",
        },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/contacts/imports",
    operationId: "importContacts",
    summary: "Import contacts from a CSV file",
    description:
      "`multipart/form-data` with one `file` part (the CSV, at most 20 MB and 100,000 rows). Each row is checked on its own: the answer lists the rejected rows with their line and why, and nothing is written for them. Importing the same file again changes nothing (its rows count as `unchanged`). An import never re-subscribes an opted-out contact. A header that cannot be read refuses the whole file (400, nothing written). Past a limit, or where the file stops being CSV, the import stops (413 or 400, naming the import in `details.importId`): the rows before it were imported and can be undone.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: tenantParams,
    query: importQuery,
    rawBody: { contentType: "multipart/form-data", schema: z.object({ file: csvFile }) },
    responses: {
      201: { description: "Imported: the report", schema: contactImportSchema },
      413: { description: "The file is over 20 MB or 100,000 rows." },
    },
    async handle(context) {
      const { params, query, services, request, access } = context;
      const options = { tags: importTags(query.tags), overwrite: query.overwrite === "true" };
      const { id, report } = await receiveCsvFile(request, MAX_IMPORT_BYTES, (file, fileName) =>
        services.contactImports.run(params.tenantId, file, {
          options,
          fileName: fileName ? fileName.slice(0, 300) : null,
          createdBy: principalId(access.principal),
          context: auditContext(context),
        }),
      );
      return {
        status: 201,
        body: toContactImport(id, report),
        headers: { Location: `/v1/tenants/${params.tenantId}/contacts/imports/${id}` },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/contacts/imports",
    operationId: "listContactImports",
    summary: "The tenant's contact imports, newest first",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of imports", schema: pageOf(contactImportSchema) } },
    async handle({ params, query, services }) {
      const page = await services.contactImports.list(params.tenantId, query);
      return {
        status: 200,
        body: { items: page.items.map((i) => toContactImport(i.id, i.data)), nextCursor: page.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/contacts/imports/{importId}",
    operationId: "getContactImport",
    summary: "One import's report (and its undo's)",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:read",
    params: importParams,
    responses: { 200: { description: "The import", schema: contactImportSchema } },
    async handle({ params, services }) {
      const found = await services.contactImports.get(params.tenantId, params.importId);
      return { status: 200, body: toContactImport(params.importId, found) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/contacts/imports/{importId}/undo",
    operationId: "undoContactImport",
    summary: "Undo an import: delete the contacts it created, restore those it changed",
    description:
      "A contact changed since the import (by the API, a later import, an opt-out) is left as it is and listed in `undo.skippedContacts`. 409 while the import runs, or once it was undone. An undo that was interrupted continues where it stopped when asked again.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: importParams,
    responses: { 200: { description: "Undone: the import with its undo's counts", schema: contactImportSchema } },
    async handle(context) {
      const { params, services, access } = context;
      const undone = await services.contactImports.undo(
        params.tenantId,
        params.importId,
        principalId(access.principal),
        auditContext(context),
      );
      return { status: 200, body: toContactImport(params.importId, undone) };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/contacts/{personId}",
    operationId: "getContact",
    summary: "One contact",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:read",
    params: contactParams,
    responses: { 200: { description: "The contact", schema: contactSchema } },
    async handle({ params, services }) {
      const contact = await services.contacts.get(params.tenantId, params.personId);
      return { status: 200, body: toContact(params.personId, contact) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/contacts/{personId}",
    operationId: "updateContact",
    summary: "Change a contact's name, tags or custom fields",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: contactParams,
    body: patchContactBody,
    responses: { 200: { description: "The updated contact", schema: contactSchema } },
    async handle(context) {
      const { params, body, services } = context;
      const contact = await services.contacts.patch(params.tenantId, params.personId, body, auditContext(context));
      return { status: 200, body: toContact(params.personId, contact) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/contacts/{personId}",
    operationId: "deleteContact",
    summary: "Delete a contact",
    description: "Its bots' person stores keep what they know of the person; only the tenant's contact goes.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: contactParams,
    responses: { 204: { description: "Deleted" } },
    async handle(context) {
      const { params, services } = context;
      await services.contacts.delete(params.tenantId, params.personId, auditContext(context));
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/contacts/{personId}/opt-out",
    operationId: "optOutContact",
    summary: "Stop campaigns to a contact",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: contactParams,
    body: optOutBody,
    responses: { 200: { description: "The contact, opted out", schema: contactSchema } },
    async handle(context) {
      const { params, body, services } = context;
      const contact = await services.contacts.optOut(
        params.tenantId,
        params.personId,
        body.reason ?? null,
        auditContext(context),
      );
      return { status: 200, body: toContact(params.personId, contact) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/contacts/{personId}/opt-in",
    operationId: "optInContact",
    summary: "Lift an opt-out the tenant made (not one the person sent on WhatsApp)",
    description: "409 when the person opted out themselves (STOP on WhatsApp): only their own START lifts it.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:write",
    params: contactParams,
    responses: { 200: { description: "The contact", schema: contactSchema } },
    async handle(context) {
      const { params, services } = context;
      const contact = await services.contacts.optIn(params.tenantId, params.personId, auditContext(context));
      return { status: 200, body: toContact(params.personId, contact) };
    },
  }),
];
