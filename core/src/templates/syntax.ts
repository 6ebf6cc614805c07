/**
 * A template's text, parsed once into a tree that rendering walks per recipient:
 * - `{{name}}`, `{{first_name}}`, `{{phone}}`, any custom field `{{city}}`, with a fallback
 *   `{{name|there}}` used when the contact has no value (names are case-insensitive);
 * - spintax `{Hi|Hello|Hey}`, nested allowed (`{Hi {{name|there}}|{Good morning|Morning}}`), one
 *   alternative chosen per rendering;
 * - `\{`, `\}`, `\|` and `\\` for a literal brace, pipe or backslash. A `|` outside any group is
 *   literal too.
 * `{{` always opens a variable: to start an alternative with a nested group, write `{ {a|b} c|d}`.
 */

/** Variables every contact has a slot for (the value may still be missing: no name, no known phone). */
export const builtInVariables = ["name", "first_name", "phone"] as const;
export type BuiltInVariable = (typeof builtInVariables)[number];

export function isBuiltInVariable(name: string): name is BuiltInVariable {
  return name === "name" || name === "first_name" || name === "phone";
}

/** The longest value each built-in can take (contactDocSchema: name ≤ 200; a phone is `+` and ≤ 20 digits). */
export const builtInMaxLength: Record<BuiltInVariable, number> = { name: 200, first_name: 200, phone: 21 };
/** contactFieldsSchema: custom field values are at most 500 characters. */
export const CUSTOM_FIELD_MAX_LENGTH = 500;
export const FALLBACK_MAX_LENGTH = 200;
/** Deeper nesting is not a message anyone writes; the limit keeps rendering's recursion shallow. */
export const MAX_SPINTAX_DEPTH = 8;

const variableNamePattern = /^[a-z][a-z0-9_]{0,31}$/;

export type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "variable"; name: string; fallback: string | null; at: number }
  | { kind: "spin"; options: TemplateNode[][]; at: number };

/** A problem in a template's text, with the position (0-based, in UTF-16 units) where it was found. */
export interface SyntaxProblem {
  at: number;
  message: string;
}

export class TemplateSyntaxError extends Error {
  readonly problem: SyntaxProblem;
  constructor(problem: SyntaxProblem) {
    super(`${problem.message} (at character ${problem.at + 1})`);
    this.name = "TemplateSyntaxError";
    this.problem = problem;
  }
}

const ESCAPABLE = new Set(["{", "}", "|", "\\"]);

/**
 * Parses a template's text; throws TemplateSyntaxError naming the first problem: an unclosed or
 * unopened brace, a bad escape, a variable that is not `{{name}}` or `{{name|fallback}}`, nesting
 * deeper than MAX_SPINTAX_DEPTH.
 */
export function parseTemplate(source: string): TemplateNode[] {
  let i = 0;

  const fail = (at: number, message: string): never => {
    throw new TemplateSyntaxError({ at, message });
  };

  const variable = (): TemplateNode => {
    const start = i;
    const end = source.indexOf("}}", i + 2);
    if (end < 0) fail(start, "`{{` is not closed by `}}`");
    const inner = source.slice(i + 2, end);
    const bar = inner.indexOf("|");
    const rawName = (bar < 0 ? inner : inner.slice(0, bar)).trim().toLowerCase();
    const fallback = bar < 0 ? null : inner.slice(bar + 1);
    if (!variableNamePattern.test(rawName)) {
      fail(
        start,
        rawName === ""
          ? "`{{}}` names no variable"
          : `\`{{${inner}}}\` is not a variable: write {{name}} or {{name|fallback}}, names are 1-32 letters, digits or '_' starting with a letter`,
      );
    }
    if (fallback !== null) {
      if (/[{}|\\]/.test(fallback)) {
        fail(start, `the fallback of {{${rawName}}} may not contain braces, pipes or backslashes`);
      }
      if (fallback.length > FALLBACK_MAX_LENGTH) {
        fail(start, `the fallback of {{${rawName}}} is longer than ${FALLBACK_MAX_LENGTH} characters`);
      }
    }
    i = end + 2;
    return { kind: "variable", name: rawName, fallback, at: start };
  };

  /** A sequence up to `|` or `}` (inside a group) or the end (at the top). */
  const sequence = (depth: number): TemplateNode[] => {
    const nodes: TemplateNode[] = [];
    let text = "";
    const flush = () => {
      if (text) nodes.push({ kind: "text", text });
      text = "";
    };
    while (i < source.length) {
      const c = source[i] as string;
      if (c === "\\") {
        const next = source[i + 1];
        if (next === undefined || !ESCAPABLE.has(next)) {
          fail(i, "a backslash escapes only `{`, `}`, `|` or `\\` (write `\\\\` for a backslash)");
        }
        text += next;
        i += 2;
      } else if (c === "{" && source[i + 1] === "{") {
        flush();
        nodes.push(variable());
      } else if (c === "{") {
        flush();
        nodes.push(spin(depth + 1));
      } else if (c === "}" || c === "|") {
        if (depth > 0) break;
        if (c === "}") fail(i, "`}` closes no `{` (write `\\}` for a literal brace)");
        text += c;
        i += 1;
      } else {
        text += c;
        i += 1;
      }
    }
    flush();
    return nodes;
  };

  const spin = (depth: number): TemplateNode => {
    const start = i;
    if (depth > MAX_SPINTAX_DEPTH) fail(start, `spintax is nested more than ${MAX_SPINTAX_DEPTH} deep`);
    i += 1;
    const options: TemplateNode[][] = [];
    for (;;) {
      options.push(sequence(depth));
      const c = source[i];
      if (c === "|") {
        i += 1;
        continue;
      }
      if (c === "}") {
        i += 1;
        break;
      }
      fail(start, "`{` is not closed by `}` (write `\\{` for a literal brace)");
    }
    return { kind: "spin", options, at: start };
  };

  return sequence(0);
}

/** Every variable a tree uses, with its fallback, in order of first appearance (any branch). */
export function variablesOf(nodes: readonly TemplateNode[]): Array<{ name: string; fallback: string | null }> {
  const found: Array<{ name: string; fallback: string | null }> = [];
  const walk = (list: readonly TemplateNode[]) => {
    for (const node of list) {
      if (node.kind === "variable") found.push({ name: node.name, fallback: node.fallback });
      else if (node.kind === "spin") for (const option of node.options) walk(option);
    }
  };
  walk(nodes);
  return found;
}

/** The longest value a variable could be replaced by (its fallback counted too). */
function maxValueLength(name: string, fallback: string | null): number {
  const value = isBuiltInVariable(name) ? builtInMaxLength[name] : CUSTOM_FIELD_MAX_LENGTH;
  return Math.max(value, fallback?.length ?? 0);
}

/** The length of the longest text the tree can render to, whatever the contact and the variants chosen. */
export function maxRenderedLength(nodes: readonly TemplateNode[]): number {
  let total = 0;
  for (const node of nodes) {
    if (node.kind === "text") total += node.text.length;
    else if (node.kind === "variable") total += maxValueLength(node.name, node.fallback);
    else total += Math.max(...node.options.map((option) => maxRenderedLength(option)));
  }
  return total;
}

/** How many different texts the spintax alone can produce (capped: it grows as a product). */
export function variantCount(nodes: readonly TemplateNode[], cap = 1_000_000): number {
  let count = 1;
  for (const node of nodes) {
    if (node.kind !== "spin") continue;
    let sum = 0;
    for (const option of node.options) sum += variantCount(option, cap);
    count = Math.min(cap, count * sum);
  }
  return count;
}
