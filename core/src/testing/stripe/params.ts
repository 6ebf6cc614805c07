import { z } from "zod";
import { StripeApiError } from "./errors.ts";
import { type FormObject, type FormValue, paramName } from "./form.ts";

/**
 * The parameters each endpoint accepts, as Stripe validates them: unknown parameters are refused
 * (`parameter_unknown`), missing ones named (`parameter_missing`), so a call our code gets wrong
 * fails here as it would against Stripe, naming the parameter.
 */

const text = (max: number) => z.string().max(max, { error: `must be at most ${max} characters` });
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: "Invalid integer" })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );
const boolean = z.enum(["true", "false"], { error: "Invalid boolean" }).transform((v) => v === "true");
const url = z.string().refine(
  (value) => {
    if (!URL.canParse(value)) return false;
    const protocol = new URL(value).protocol;
    return protocol === "http:" || protocol === "https:";
  },
  { error: "Not a valid URL" },
);
const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9]+$`), { error: "Invalid id" });
/** Up to 50 keys of 40 characters, values of 500 (Stripe's limits); "" for a value removes the key. */
const metadata = z
  .record(text(40), text(500))
  .refine((m) => Object.keys(m).length <= 50, { error: "must have at most 50 keys" });
const expand = z.array(text(200)).max(20).optional();

export const customerCreateParams = z.strictObject({
  name: text(256).optional(),
  email: text(512).optional(),
  description: text(350).optional(),
  phone: text(20).optional(),
  metadata: metadata.optional(),
  expand,
});

export const retrieveParams = z.strictObject({ expand });

export const priceListParams = z.strictObject({
  lookup_keys: z.array(text(200)).max(10).optional(),
  active: boolean.optional(),
  product: z.string().optional(),
  type: z.enum(["one_time", "recurring"]).optional(),
  currency: z.string().optional(),
  limit: integer(1, 100).optional(),
  expand,
});

export const checkoutCreateParams = z.strictObject({
  mode: z.enum(["subscription", "payment", "setup"]),
  customer: id("cus").optional(),
  customer_email: text(512).optional(),
  line_items: z
    .array(z.strictObject({ price: id("price"), quantity: integer(1, 1).optional() }))
    .min(1)
    .max(1, { error: "the local Stripe sells one plan per session" }),
  success_url: url.pipe(text(5000)),
  cancel_url: url.pipe(text(5000)).optional(),
  client_reference_id: text(200).optional(),
  metadata: metadata.optional(),
  subscription_data: z
    .strictObject({
      metadata: metadata.optional(),
      trial_period_days: integer(1, 730).optional(),
      description: text(500).optional(),
    })
    .optional(),
  allow_promotion_codes: boolean.optional(),
  billing_address_collection: z.enum(["auto", "required"]).optional(),
  payment_method_collection: z.enum(["always", "if_required"]).optional(),
  payment_method_types: z.array(z.literal("card", { error: "the local Stripe takes cards only" })).optional(),
  locale: z.string().optional(),
  expand,
});

export const portalCreateParams = z.strictObject({
  customer: id("cus"),
  return_url: url.pipe(text(5000)).optional(),
  locale: z.string().optional(),
  expand,
});

export const subscriptionUpdateParams = z.strictObject({
  cancel_at_period_end: boolean.optional(),
  items: z
    .array(
      z.strictObject({ id: id("si").optional(), price: id("price").optional(), quantity: integer(1, 1).optional() }),
    )
    .max(1)
    .optional(),
  metadata: z.union([z.literal(""), metadata]).optional(),
  proration_behavior: z.enum(["create_prorations", "none", "always_invoice"]).optional(),
  payment_behavior: z
    .enum(["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"])
    .optional(),
  cancellation_details: z
    .strictObject({ comment: z.union([z.literal(""), text(5000)]).optional(), feedback: z.string().optional() })
    .optional(),
  expand,
});

export const subscriptionCancelParams = z.strictObject({
  invoice_now: boolean.optional(),
  prorate: boolean.optional(),
  cancellation_details: z
    .strictObject({ comment: z.union([z.literal(""), text(5000)]).optional(), feedback: z.string().optional() })
    .optional(),
  expand,
});

export const subscriptionListParams = z.strictObject({
  customer: id("cus").optional(),
  status: z
    .enum([
      "active",
      "all",
      "canceled",
      "ended",
      "incomplete",
      "incomplete_expired",
      "past_due",
      "paused",
      "trialing",
      "unpaid",
    ])
    .optional(),
  price: id("price").optional(),
  limit: integer(1, 100).optional(),
  expand,
});

/** Parses `form` with `schema`, or throws the error Stripe would give for its first problem. */
export function parseParams<S extends z.ZodType>(schema: S, form: FormObject): z.output<S> {
  const result = schema.safeParse(form);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new StripeApiError(400, "invalid_request_error", "Invalid request.");
  if (issue.code === "unrecognized_keys") {
    const param = paramName([...issue.path, issue.keys[0] ?? ""]);
    throw new StripeApiError(400, "invalid_request_error", `Received unknown parameter: ${param}`, {
      code: "parameter_unknown",
      param,
    });
  }
  const param = paramName(issue.path);
  if (valueAt(form, issue.path) === undefined) {
    throw new StripeApiError(400, "invalid_request_error", `Missing required param: ${param}.`, {
      code: "parameter_missing",
      param,
    });
  }
  const code = issue.message === "Invalid integer" ? "parameter_invalid_integer" : undefined;
  throw new StripeApiError(400, "invalid_request_error", `Invalid ${param}: ${issue.message}`, {
    param,
    ...(code ? { code } : {}),
  });
}

function valueAt(form: FormObject, path: readonly PropertyKey[]): FormValue | undefined {
  let node: FormValue | undefined = form;
  for (const key of path) {
    if (node === undefined || typeof node === "string") return undefined;
    node = Array.isArray(node) ? node[Number(key)] : Object.hasOwn(node, String(key)) ? node[String(key)] : undefined;
  }
  return node;
}
