import type { CollectionReference, DocumentReference, Firestore } from "firebase-admin/firestore";
import { type EventDoc, eventDocSchema } from "../events/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import {
  eventPath,
  webhookDeliveriesCollectionPath,
  webhookDeliveryPath,
  webhookPath,
  webhookSecretPath,
  webhooksCollectionPath,
} from "../firestore/paths.ts";
import {
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
  type WebhookSecretDoc,
  webhookDeliveryDocSchema,
  webhookEndpointDocSchema,
  webhookSecretDocSchema,
} from "./schema.ts";

const converters = {
  endpoint: zodConverter(webhookEndpointDocSchema),
  secret: zodConverter(webhookSecretDocSchema),
  delivery: zodConverter(webhookDeliveryDocSchema),
  event: zodConverter(eventDocSchema),
};

/** Typed, validated references to a tenant's webhook documents. */
export interface WebhookRefs {
  db: Firestore;
  endpoints(tenantId: string): CollectionReference<WebhookEndpointDoc>;
  endpoint(tenantId: string, webhookId: string): DocumentReference<WebhookEndpointDoc>;
  secret(tenantId: string, webhookId: string): DocumentReference<WebhookSecretDoc>;
  deliveries(tenantId: string, webhookId: string): CollectionReference<WebhookDeliveryDoc>;
  delivery(tenantId: string, webhookId: string, eventId: string): DocumentReference<WebhookDeliveryDoc>;
  event(tenantId: string, eventId: string): DocumentReference<EventDoc>;
}

export function webhookRefs(db: Firestore): WebhookRefs {
  return {
    db,
    endpoints: (t) => db.collection(webhooksCollectionPath(t)).withConverter(converters.endpoint),
    endpoint: (t, w) => db.doc(webhookPath(t, w)).withConverter(converters.endpoint),
    secret: (t, w) => db.doc(webhookSecretPath(t, w)).withConverter(converters.secret),
    deliveries: (t, w) => db.collection(webhookDeliveriesCollectionPath(t, w)).withConverter(converters.delivery),
    delivery: (t, w, e) => db.doc(webhookDeliveryPath(t, w, e)).withConverter(converters.delivery),
    event: (t, e) => db.doc(eventPath(t, e)).withConverter(converters.event),
  };
}
