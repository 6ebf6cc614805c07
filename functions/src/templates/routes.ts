import { resourceIdSchema } from "@whatsdex/core";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import {
  createTemplateBody,
  previewTemplateBody,
  templatePreviewSchema,
  templateSchema,
  toTemplate,
  updateTemplateBody,
} from "./dto.ts";

const templateParams = tenantParams.extend({ templateId: resourceIdSchema });
const tag = "Templates";

/**
 * Message templates for campaigns: every member reads them (`campaigns:read`), owners, admins and
 * `messages`/`admin` keys write them. A preview renders one for a contact, so it reads the contact:
 * `contacts:read` (not viewers, who may read templates but not people's names and numbers).
 */
export const templateRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/templates",
    operationId: "listTemplates",
    summary: "List message templates, newest first",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of templates", schema: pageOf(templateSchema) } },
    async handle({ params, query, services }) {
      const page = await services.templates.list(params.tenantId, query);
      return {
        status: 200,
        body: { items: page.items.map((t) => toTemplate(t.id, t.data)), nextCursor: page.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/templates",
    operationId: "createTemplate",
    summary: "Create a message template",
    description:
      "The body is checked as it is saved: a syntax error is a 400 naming `body` and the character it was found at; so is a body whose longest rendering (the longest alternatives, custom fields at 500 characters, names at 200) is over 4,096. Variables some contacts may leave empty are `warnings`. With `mediaUploadId`, the template keeps its own copy of the upload.",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: tenantParams,
    body: createTemplateBody,
    responses: { 201: { description: "Created", schema: templateSchema } },
    async handle(context) {
      const { access, body, services } = context;
      const saved = await services.templates.create(access, body, auditContext(context));
      return {
        status: 201,
        body: toTemplate(saved.id, saved.template, saved.warnings),
        headers: { Location: `/v1/tenants/${access.tenantId}/templates/${saved.id}` },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/templates/{templateId}",
    operationId: "getTemplate",
    summary: "Get a message template",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:read",
    params: templateParams,
    responses: { 200: { description: "The template", schema: templateSchema } },
    async handle({ params, services }) {
      const { template, warnings } = await services.templates.get(params.tenantId, params.templateId);
      return { status: 200, body: toTemplate(params.templateId, template, warnings) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/templates/{templateId}",
    operationId: "updateTemplate",
    summary: "Change a template's name, body, language, fallbacks or media",
    description:
      "Checked as on creation. A new `mediaUploadId` replaces the media (the old copy is deleted); null removes it.",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: templateParams,
    body: updateTemplateBody,
    responses: { 200: { description: "The updated template", schema: templateSchema } },
    async handle(context) {
      const { params, body, services } = context;
      const saved = await services.templates.update(params.tenantId, params.templateId, body, auditContext(context));
      return { status: 200, body: toTemplate(saved.id, saved.template, saved.warnings) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/templates/{templateId}",
    operationId: "deleteTemplate",
    summary: "Delete a template and its media",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: templateParams,
    responses: { 204: { description: "Deleted" } },
    async handle(context) {
      const { params, services } = context;
      await services.templates.delete(params.tenantId, params.templateId, auditContext(context));
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/templates/{templateId}/preview",
    operationId: "previewTemplate",
    summary: "Render a template for one contact",
    description:
      "For a contact of the tenant (`personId`; 404 when the tenant has none by that id) or one described inline (`contact`). With `campaignId`, the spintax is drawn as that campaign's message to this person would be.",
    tag,
    auth: "user-or-api-key",
    permission: "contacts:read",
    params: templateParams,
    body: previewTemplateBody,
    responses: { 200: { description: "What the contact would get", schema: templatePreviewSchema } },
    async handle({ params, body, services }) {
      const whom =
        "personId" in body
          ? { personId: body.personId }
          : {
              contact: {
                name: body.contact.name ?? null,
                pn: body.contact.phone ? `${body.contact.phone.replace(/^\+/, "")}@s.whatsapp.net` : null,
                fields: body.contact.fields ?? {},
              },
            };
      const preview = await services.templates.preview(params.tenantId, params.templateId, whom, body.campaignId);
      const media = preview.media
        ? {
            kind: preview.media.kind,
            mimetype: preview.media.mimetype,
            bytes: preview.media.bytes,
            fileName: preview.media.fileName,
          }
        : null;
      return {
        status: 200,
        body: { text: preview.text, length: preview.text.length, missing: preview.missing, media },
      };
    },
  }),
];
