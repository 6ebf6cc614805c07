import { randomUUID } from "node:crypto";
import type { CollectionReference, DocumentReference, Firestore } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import { type TenantAccess, tenantNotFound } from "../access/access-service.ts";
import { principalId } from "../access/principal.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { type ContactDoc, contactDocSchema } from "../contacts/schema.ts";
import { NotFoundError, PlanLimitError, ValidationError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { collections, templatePath, tenantContactPath, tenantPath } from "../firestore/paths.ts";
import type { MediaStore } from "../media/media-store.ts";
import { checkTemplate } from "./check-template.ts";
import { type RenderContact, renderTemplate } from "./render.ts";
import { type TemplateDoc, type TemplateMedia, type TemplateWarning, templateDocSchema } from "./schema.ts";
import { spinSeed } from "./spintax.ts";

/** Enough for any tenant's campaigns; each is one small document. */
export const MAX_TEMPLATES_PER_TENANT = 500;

export interface TemplateInput {
  name: string;
  body: string;
  language?: string | undefined;
  fallbacks?: Record<string, string> | undefined;
  /** An upload (`POST …/media`) the template keeps its own copy of. */
  mediaUploadId?: string | undefined;
}

export interface TemplatePatch {
  name?: string | undefined;
  body?: string | undefined;
  language?: string | undefined;
  fallbacks?: Record<string, string> | undefined;
  /** A new upload to copy; null removes the media. */
  mediaUploadId?: string | null | undefined;
}

export interface SavedTemplate {
  id: string;
  template: TemplateDoc;
  warnings: TemplateWarning[];
}

/** Whom a preview renders for: a stored contact, or one described inline. */
export type PreviewTarget = { personId: string } | { contact: RenderContact };

export interface Preview {
  text: string;
  missing: string[];
  media: TemplateMedia | null;
}

const converter = zodConverter(templateDocSchema);
const contactConverter = zodConverter(contactDocSchema);
const target = (templateId: string) => `template:${templateId}`;

export function templateNotFound(): NotFoundError {
  return new NotFoundError("Template not found.");
}

/**
 * A tenant's message templates: checked when saved (syntax, the longest rendering, variables some
 * contacts leave empty), each change audited in its own transaction, media kept as the template's
 * own copy of an upload. Rendering itself is `renderTemplate`, pure, which campaigns call per recipient.
 */
export class TemplateService {
  readonly #db: Firestore;
  readonly #media: MediaStore;
  readonly #audit: AuditLog;
  readonly #max: number;

  constructor(db: Firestore, options: { media: MediaStore; audit?: AuditLog; maxTemplates?: number }) {
    this.#db = db;
    this.#media = options.media;
    this.#audit = options.audit ?? new AuditLog(db);
    this.#max = options.maxTemplates ?? MAX_TEMPLATES_PER_TENANT;
  }

  #collection(tenantId: string): CollectionReference<TemplateDoc> {
    return this.#db.collection(`${tenantPath(tenantId)}/${collections.templates}`).withConverter(converter);
  }

  #ref(tenantId: string, templateId: string): DocumentReference<TemplateDoc> {
    return this.#db.doc(templatePath(tenantId, templateId)).withConverter(converter);
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: TemplateDoc }>> {
    return paginate(this.#collection(tenantId), page);
  }

  async get(tenantId: string, templateId: string): Promise<{ template: TemplateDoc; warnings: TemplateWarning[] }> {
    const template = (await this.#ref(tenantId, templateId).get()).data();
    if (!template) throw templateNotFound();
    return { template, warnings: checkTemplate(template.body, template.fallbacks).warnings };
  }

  /** A copy of the upload for the template, or a ValidationError naming `mediaUploadId`. */
  async #copyMedia(tenantId: string, uploadId: string): Promise<TemplateMedia> {
    const id = randomUUID().replaceAll("-", "");
    const info = await this.#media.copyUploadToTemplate(tenantId, uploadId, id);
    if (!info) {
      const message = "no such upload: it expired (uploads last a day) or was never made; upload the file again";
      throw new ValidationError(`Invalid mediaUploadId: ${message}.`, [{ path: "mediaUploadId", message }]);
    }
    return { id, kind: info.kind, mimetype: info.mimetype, bytes: info.bytes, fileName: info.fileName };
  }

  /** The copy made for a change that did not commit: nothing refers to it. */
  async #discard(tenantId: string, media: TemplateMedia | null): Promise<void> {
    if (media) await this.#media.deleteTemplateMedia(tenantId, media.id).catch(() => undefined);
  }

  async create(access: TenantAccess, input: TemplateInput, context: AuditContext): Promise<SavedTemplate> {
    const { tenantId } = access;
    const fallbacks = input.fallbacks ?? {};
    const { compiled, warnings } = checkTemplate(input.body, fallbacks);
    const media = input.mediaUploadId ? await this.#copyMedia(tenantId, input.mediaUploadId) : null;
    const ref = this.#collection(tenantId).doc();
    const now = Timestamp.now();
    const template: TemplateDoc = {
      name: input.name,
      body: input.body,
      language: input.language ?? "en",
      fallbacks,
      media,
      variables: compiled.variables.map((v) => v.name),
      maxLength: compiled.maxLength,
      createdBy: principalId(access.principal),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.#db.runTransaction(async (tx) => {
        const [tenant, count] = await Promise.all([
          tx.get(this.#db.doc(tenantPath(tenantId))),
          tx.get(this.#collection(tenantId).count()),
        ]);
        if (!tenant.exists) throw tenantNotFound();
        if (count.data().count >= this.#max) {
          throw new PlanLimitError(`A tenant may have at most ${this.#max} templates; delete one first.`, {
            details: { limit: this.#max },
          });
        }
        tx.create(ref, template);
        this.#audit.record(tx, tenantId, context, {
          action: "template.created",
          target: target(ref.id),
          before: null,
          after: auditView(template),
        });
      });
    } catch (error) {
      await this.#discard(tenantId, media);
      throw error;
    }
    return { id: ref.id, template, warnings };
  }

  async update(
    tenantId: string,
    templateId: string,
    patch: TemplatePatch,
    context: AuditContext,
  ): Promise<SavedTemplate> {
    const ref = this.#ref(tenantId, templateId);
    // Checked before anything is copied, so a bad body leaves no stray object; again in the transaction.
    const current = (await ref.get()).data();
    if (!current) throw templateNotFound();
    checkTemplate(patch.body ?? current.body, patch.fallbacks ?? current.fallbacks);
    const media = patch.mediaUploadId ? await this.#copyMedia(tenantId, patch.mediaUploadId) : null;
    let result: { saved: SavedTemplate; replaced: TemplateMedia | null };
    try {
      result = await this.#db.runTransaction(async (tx) => {
        const before = (await tx.get(ref)).data();
        if (!before) throw templateNotFound();
        const body = patch.body ?? before.body;
        const fallbacks = patch.fallbacks ?? before.fallbacks;
        const { compiled, warnings } = checkTemplate(body, fallbacks);
        const after: TemplateDoc = {
          ...before,
          name: patch.name ?? before.name,
          body,
          language: patch.language ?? before.language,
          fallbacks,
          media: patch.mediaUploadId === undefined ? before.media : media,
          variables: compiled.variables.map((v) => v.name),
          maxLength: compiled.maxLength,
          updatedAt: Timestamp.now(),
        };
        tx.set(ref, after);
        this.#audit.record(tx, tenantId, context, {
          action: "template.updated",
          target: target(templateId),
          before: auditView(before),
          after: auditView(after),
        });
        const replaced = patch.mediaUploadId === undefined ? null : before.media;
        return { saved: { id: templateId, template: after, warnings }, replaced };
      });
    } catch (error) {
      await this.#discard(tenantId, media);
      throw error;
    }
    // After the commit: the old copy is no longer named by the template (a crash here leaves an orphan
    // object that the tenant's deletion still removes).
    await this.#discard(tenantId, result.replaced);
    return result.saved;
  }

  /** Deletes the template, then its media copy; a second delete is a 404. */
  async delete(tenantId: string, templateId: string, context: AuditContext): Promise<void> {
    const ref = this.#ref(tenantId, templateId);
    const before = await this.#db.runTransaction(async (tx) => {
      const found = (await tx.get(ref)).data();
      if (!found) throw templateNotFound();
      tx.delete(ref);
      this.#audit.record(tx, tenantId, context, {
        action: "template.deleted",
        target: target(templateId),
        before: auditView(found),
        after: null,
      });
      return found;
    });
    await this.#discard(tenantId, before.media);
  }

  /**
   * The text one contact would get: a stored contact (404 when the tenant has none by that id) or
   * one given inline. `campaignId` draws the spintax as that campaign's send to this person would;
   * without it, as a campaign called "preview" would.
   */
  async preview(tenantId: string, templateId: string, whom: PreviewTarget, campaignId?: string): Promise<Preview> {
    const [found, contact] = await Promise.all([
      this.#ref(tenantId, templateId).get(),
      "personId" in whom ? this.#contact(tenantId, whom.personId) : Promise.resolve(whom.contact),
    ]);
    const template = found.data();
    if (!template) throw templateNotFound();
    const { compiled } = checkTemplate(template.body, template.fallbacks);
    const seed = spinSeed(campaignId ?? "preview", "personId" in whom ? whom.personId : "inline");
    const rendered = renderTemplate(compiled, contact, seed);
    return { text: rendered.text, missing: rendered.missing, media: template.media };
  }

  async #contact(tenantId: string, personId: string): Promise<ContactDoc> {
    const contact = (
      await this.#db.doc(tenantContactPath(tenantId, personId)).withConverter(contactConverter).get()
    ).data();
    if (!contact) throw new NotFoundError("Contact not found.");
    return contact;
  }
}

/** What the audit log keeps of a template: what it says and sends, not bookkeeping. */
function auditView(template: TemplateDoc): object {
  return {
    name: template.name,
    body: template.body,
    language: template.language,
    fallbacks: template.fallbacks,
    media: template.media?.id ?? null,
  };
}
