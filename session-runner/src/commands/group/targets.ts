import { jidNormalizedUser } from "baileys";
import type { Person } from "../../identity/person.ts";
import type { CommandContext } from "../command.ts";

/**
 * Phone numbers as people type them: `6281234567890`, `+62 812-3456-7890`, `@6281234567890`. Pieces
 * of one number are joined until it has ten digits (most E.164 numbers do); a `+` starts a new one.
 */
export function phoneNumbersIn(args: readonly string[]): string[] {
  const numbers: string[] = [];
  let current = "";
  for (const arg of args) {
    if (!/^@?\+?[\d()-]+$/.test(arg)) continue;
    const digits = arg.replace(/\D/g, "");
    if (arg.replace(/^@/, "").startsWith("+") || current.length >= 10) {
      if (current) numbers.push(current);
      current = "";
    }
    current += digits;
  }
  if (current) numbers.push(current);
  return numbers.filter((number) => number.length >= 7 && number.length <= 15);
}

/**
 * Whom a command is about: the people mentioned, else the author of the quoted message, else the
 * phone numbers typed after the command. Never the same person twice.
 */
export function targetsOf(context: Pick<CommandContext, "message" | "args" | "whois">): Person[] {
  const { message, args, whois } = context;
  const jids: string[] = [...message.mentions];
  if (jids.length === 0 && message.quoted?.sender) jids.push(message.quoted.sender);
  if (jids.length === 0) jids.push(...phoneNumbersIn(args).map((digits) => `${digits}@s.whatsapp.net`));
  const people = new Map<string, Person>();
  for (const jid of jids) {
    const person = whois(jidNormalizedUser(jid));
    people.set(person.id, person);
  }
  return [...people.values()];
}

/** How a person is written in a reply, so WhatsApp renders the mention: `@` and the JID's user part. */
export function mentionText(jid: string): string {
  return `@${jid.split("@")[0]?.split(":")[0] ?? jid}`;
}
