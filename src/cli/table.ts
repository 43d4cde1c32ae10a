/** Rows as an aligned text table with a caption, for people reading a terminal. */
export function formatTable(rows: Record<string, unknown>[], caption: string, maxWidth = 40): string {
  if (rows.length === 0) return `${caption}\n`;
  const headers = Object.keys(rows[0]);
  const cells = rows.map((r) => headers.map((h) => (r[h] === null || r[h] === undefined ? '' : String(r[h]))));
  const widths = headers.map((h, i) => Math.min(maxWidth, Math.max(h.length, ...cells.map((c) => c[i].length))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (v.length > widths[i] ? `${v.slice(0, widths[i] - 1)}…` : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), caption].join('\n')}\n`;
}

export function printTable(rows: Record<string, unknown>[], caption: string): void {
  process.stdout.write(formatTable(rows, caption));
}

/** A value in a table cell: — for none, text as it is, anything else as JSON. */
export function showValue(value: unknown): string {
  return value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);
}
