import { z } from "zod";

/**
 * The settings one table of docs/settings.md lists: the first table after the heading `## <heading>`,
 * one row per variable, the backticked name in the first column, the default in the second.
 */
export function documentedSettings(markdown: string, heading: string): Map<string, string> {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`docs/settings.md has no "## ${heading}" section`);
  const settings = new Map<string, string>();
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("## ")) break;
    if (!line.startsWith("|")) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    // Cells are split on unescaped pipes (`a\|b` stays one cell).
    const [name = "", defaultValue = ""] = line
      .split(/(?<!\\)\|/)
      .slice(1)
      .map((cell) => cell.trim());
    const variable = /^`([A-Z][A-Z0-9_]*)`$/.exec(name)?.[1];
    if (variable) settings.set(variable, defaultValue);
  }
  return settings;
}

/** Each variable of an env schema and its default as the doc writes it (`value`), if it has one. */
export function declaredSettings(schema: z.ZodObject): Map<string, string | undefined> {
  return new Map(
    Object.entries(schema.shape).map(([name, field]) => [
      name,
      field instanceof z.ZodDefault ? `\`${String(field.def.defaultValue)}\`` : undefined,
    ]),
  );
}
