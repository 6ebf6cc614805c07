export interface ParsedCommand {
  prefix: string;
  /** Lower-cased: `.PING` and `.ping` are the same command. */
  name: string;
  /** Whitespace-separated, with "double" or 'single' quotes keeping spaces together. */
  args: string[];
  /** Everything after the name, as typed (for free text: a question, a caption). */
  rest: string;
}

/** Splits like a shell would, without its operators: quotes group, an unclosed quote runs to the end. */
export function tokenize(input: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let quote: '"' | "'" | undefined;
  let inToken = false;
  for (const char of input) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inToken = true;
    } else if (/\s/.test(char)) {
      if (inToken) tokens.push(current);
      current = "";
      inToken = false;
    } else {
      current += char;
      inToken = true;
    }
  }
  if (inToken) tokens.push(current);
  return tokens;
}

/**
 * `.ping`, `!help sticker`, `/ai "what time" now` → the command, or undefined when the text does not
 * start with one of the bot's prefixes directly followed by a name.
 */
export function parseCommand(text: string, prefixes: readonly string[]): ParsedCommand | undefined {
  const trimmed = text.trimStart();
  // Longest first, so a bot with both "!" and "!!" reads "!!menu" as "!!".
  const prefix = [...prefixes].sort((a, b) => b.length - a.length).find((p) => trimmed.startsWith(p));
  if (prefix === undefined) return undefined;
  const body = trimmed.slice(prefix.length);
  const match = /^([\p{L}\p{N}_-]{1,32})(?:\s+([\s\S]*))?$/u.exec(body);
  if (!match?.[1]) return undefined;
  const rest = (match[2] ?? "").trim();
  return { prefix, name: match[1].toLowerCase(), args: tokenize(rest), rest };
}
