/**
 * One CSV line (RFC 4180: quoted when needed, CRLF). A cell a spreadsheet would run as a formula
 * (`=`, `+`, `-`, `@`, tab, CR first) gets a `'` in front, as OWASP advises for CSV injection; the
 * import takes it off again (unescapeCell), so an export imports back unchanged.
 */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
