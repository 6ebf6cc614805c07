/**
 * A form-encoded body or query string as Stripe's clients send it: nested keys in brackets
 * (`metadata[tenantId]=t1`, `line_items[0][price]=price_1`, `expand[]=data.product`), indexed
 * arrays as the SDK writes them. Parsed into plain values for the endpoint's Zod schema to judge.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/** Bounds that keep a hostile body from costing more than a real request would. */
const MAX_PAIRS = 1_000;
const MAX_DEPTH = 6;
const MAX_INDEX = 999;
/** Keys that would reach an object's prototype if they were ever copied onto a plain object. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export class FormError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(message);
    this.param = param;
  }
}

type Node = { kind: "leaf"; value: string } | { kind: "branch"; children: Map<string, Node>; appended: number };

/** Parses `a=1&b[c]=2&d[0][e]=3&f[]=4` into `{a: "1", b: {c: "2"}, d: [{e: "3"}], f: ["4"]}`. */
export function parseForm(text: string): FormObject {
  const root: Node = { kind: "branch", children: new Map(), appended: 0 };
  if (text === "") return {};
  const pairs = text.split("&");
  if (pairs.length > MAX_PAIRS) throw new FormError("", `A request may carry at most ${MAX_PAIRS} parameters.`);
  for (const pair of pairs) {
    if (pair === "") continue;
    const cut = pair.indexOf("=");
    const rawKey = cut < 0 ? pair : pair.slice(0, cut);
    const rawValue = cut < 0 ? "" : pair.slice(cut + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    insert(root, segmentsOf(key), value, key);
  }
  const value = materialize(root);
  if (typeof value === "string" || Array.isArray(value)) return {};
  return value;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    throw new FormError("", "The request body is not valid form encoding.");
  }
}

/** `a[b][0]` → ["a", "b", "0"]; `a[]` → ["a", ""] (append). */
function segmentsOf(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match?.[1]) throw new FormError(key, `Invalid parameter name: ${key}`);
  const rest = match[2] ?? "";
  const segments = [match[1], ...[...rest.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? "")];
  if (segments.length > MAX_DEPTH) throw new FormError(key, `Parameter ${key} is nested too deeply.`);
  for (const segment of segments) {
    if (FORBIDDEN_KEYS.has(segment)) throw new FormError(key, `Invalid parameter name: ${key}`);
  }
  return segments;
}

function insert(node: Node, segments: string[], value: string, key: string): void {
  const [head, ...rest] = segments;
  if (head === undefined || node.kind !== "branch") {
    throw new FormError(key, `Parameter ${key} is given both as a value and as an object.`);
  }
  let name = head;
  if (name === "") name = String(node.appended++);
  else if (/^\d+$/.test(name) && Number(name) > MAX_INDEX) {
    throw new FormError(key, `Parameter ${key}: an array index is at most ${MAX_INDEX}.`);
  }
  if (rest.length === 0) {
    if (node.children.has(name)) throw new FormError(key, `Parameter ${key} is given more than once.`);
    node.children.set(name, { kind: "leaf", value });
    return;
  }
  let child = node.children.get(name);
  if (!child) {
    child = { kind: "branch", children: new Map(), appended: 0 };
    node.children.set(name, child);
  }
  insert(child, rest, value, key);
}

/** A branch whose keys are all indexes becomes an array, in index order (gaps closed, as Stripe does). */
function materialize(node: Node): FormValue {
  if (node.kind === "leaf") return node.value;
  const keys = [...node.children.keys()];
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => materialize(node.children.get(k) ?? { kind: "leaf", value: "" }));
  }
  const out: FormObject = {};
  for (const [k, child] of node.children) {
    Object.defineProperty(out, k, { value: materialize(child), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Stripe's way of naming a nested parameter in errors: `line_items[0][price]`. */
export function paramName(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${head ?? ""}${rest.map((p) => `[${p}]`).join("")}`;
}
