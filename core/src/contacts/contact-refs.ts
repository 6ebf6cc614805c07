import type { CollectionReference, DocumentReference, Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../firestore/converter.ts";
import { contactImportPath, tenantContactPath, tenantContactsCollectionPath, tenantPath } from "../firestore/paths.ts";
import {
  type ContactImportDoc,
  contactImportDocSchema,
  type ImportChangeDoc,
  importChangeDocSchema,
} from "./import-schema.ts";
import { type ContactDoc, contactDocSchema } from "./schema.ts";

const converters = {
  contact: zodConverter(contactDocSchema),
  contactImport: zodConverter(contactImportDocSchema),
  change: zodConverter(importChangeDocSchema),
};

/** Typed, validated references to a tenant's contacts and contact imports. */
export interface ContactRefs {
  db: Firestore;
  contacts(tenantId: string): CollectionReference<ContactDoc>;
  contact(tenantId: string, personId: string): DocumentReference<ContactDoc>;
  imports(tenantId: string): CollectionReference<ContactImportDoc>;
  contactImport(tenantId: string, importId: string): DocumentReference<ContactImportDoc>;
  changes(tenantId: string, importId: string): CollectionReference<ImportChangeDoc>;
  change(tenantId: string, importId: string, personId: string): DocumentReference<ImportChangeDoc>;
}

export function contactRefs(db: Firestore): ContactRefs {
  const changes = (t: string, i: string) =>
    db.collection(`${contactImportPath(t, i)}/changes`).withConverter(converters.change);
  return {
    db,
    contacts: (t) => db.collection(tenantContactsCollectionPath(t)).withConverter(converters.contact),
    contact: (t, p) => db.doc(tenantContactPath(t, p)).withConverter(converters.contact),
    imports: (t) => db.collection(`${tenantPath(t)}/contactImports`).withConverter(converters.contactImport),
    contactImport: (t, i) => db.doc(contactImportPath(t, i)).withConverter(converters.contactImport),
    changes,
    change: (t, i, p) => {
      tenantContactPath(t, p); // checks that `p` is a person id
      return changes(t, i).doc(p);
    },
  };
}
