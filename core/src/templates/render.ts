import { type Pick, seededPick } from "./spintax.ts";
import { maxRenderedLength, parseTemplate, type TemplateNode, variablesOf } from "./syntax.ts";

/** What a rendering reads of a contact (a ContactDoc has all of it; a preview may give it inline). */
export interface RenderContact {
  name: string | null;
  /** `<digits>@s.whatsapp.net` when the phone number is known. */
  pn: string | null;
  fields: Readonly<Record<string, string>>;
}

/** A template's text parsed once; render it once per recipient. */
export interface CompiledTemplate {
  readonly nodes: readonly TemplateNode[];
  /** Each variable once, by name (first appearance), and whether every use of it has a fallback. */
  readonly variables: ReadonlyArray<{ name: string; alwaysFallback: boolean }>;
  /** The longest text it can render to (UTF-16 units, as String.length counts). */
  readonly maxLength: number;
}

export interface Rendered {
  text: string;
  /** Variables the contact had no value for and no fallback covered (rendered as nothing). */
  missing: string[];
}

/** The tree with the template's own fallbacks given to every use that has none inline. */
function withFallbacks(nodes: TemplateNode[], fallbacks: Readonly<Record<string, string>>): TemplateNode[] {
  return nodes.map((node) => {
    if (node.kind === "variable" && node.fallback === null && Object.hasOwn(fallbacks, node.name)) {
      return { ...node, fallback: fallbacks[node.name] ?? null };
    }
    if (node.kind === "spin")
      return { ...node, options: node.options.map((option) => withFallbacks(option, fallbacks)) };
    return node;
  });
}

/**
 * Parses (throwing TemplateSyntaxError) and measures a template's text; `fallbacks` (by variable)
 * cover the uses that have no `{{name|fallback}}` of their own.
 */
export function compileTemplate(source: string, fallbacks: Readonly<Record<string, string>> = {}): CompiledTemplate {
  const nodes = withFallbacks(parseTemplate(source), fallbacks);
  const byName = new Map<string, boolean>();
  for (const { name, fallback } of variablesOf(nodes)) {
    byName.set(name, (byName.get(name) ?? true) && fallback !== null);
  }
  return {
    nodes,
    variables: [...byName].map(([name, alwaysFallback]) => ({ name, alwaysFallback })),
    maxLength: maxRenderedLength(nodes),
  };
}

function phoneOf(pn: string | null): string | null {
  if (!pn) return null;
  const end = pn.search(/[:@]/);
  const digits = end < 0 ? pn : pn.slice(0, end);
  return /^\d+$/.test(digits) ? `+${digits}` : null;
}

function firstNameOf(name: string | null): string | null {
  const trimmed = name?.trim();
  if (!trimmed) return null;
  const space = trimmed.search(/\s/);
  return space < 0 ? trimmed : trimmed.slice(0, space);
}

/** The contact's value for a variable, trimmed; null when it has none (or only spaces). */
function contactValue(contact: RenderContact, name: string): string | null {
  let value: string | null | undefined;
  if (name === "name") value = contact.name;
  else if (name === "first_name") return firstNameOf(contact.name);
  else if (name === "phone") return phoneOf(contact.pn);
  else value = Object.hasOwn(contact.fields, name) ? contact.fields[name] : undefined;
  if (!value) return null;
  const trimmed = value.trim();
  return trimmed ? trimmed : null;
}

function walk(nodes: readonly TemplateNode[], contact: RenderContact, pick: Pick, missing: string[]): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") {
      out += node.text;
    } else if (node.kind === "variable") {
      const value = contactValue(contact, node.name);
      if (value !== null) out += value;
      else if (node.fallback !== null) out += node.fallback;
      else if (!missing.includes(node.name)) missing.push(node.name);
    } else {
      const option = node.options[node.options.length === 1 ? 0 : pick(node.options.length)];
      if (option) out += walk(option, contact, pick, missing);
    }
  }
  return out;
}

/**
 * The text one contact gets: variables filled (a missing value takes its fallback, else nothing, and
 * is named in `missing`), one spintax alternative per group drawn from `seed` (spinSeed), so the same
 * seed always gives the same text. Pure: no I/O, no clock, no global randomness.
 */
export function renderTemplate(template: CompiledTemplate, contact: RenderContact, seed: number): Rendered {
  const missing: string[] = [];
  const text = walk(template.nodes, contact, seededPick(seed), missing);
  return { text, missing };
}
