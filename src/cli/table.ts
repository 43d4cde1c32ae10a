/** Prints rows as an aligned text table with a caption, for people reading a terminal. */
export function printTable(rows: Record<string, unknown>[], caption: string): void {
  if (rows.length === 0) { process.stdout.write(`${caption}\n`); return; }
  const headers = Object.keys(rows[0]);
  const cells = rows.map((r) => headers.map((h) => (r[h] === null || r[h] === undefined ? '' : String(r[h]))));
  const widths = headers.map((h, i) => Math.min(40, Math.max(h.length, ...cells.map((c) => c[i].length))));
  const line = (values: string[]) => values.map((v, i) => (v.length > widths[i] ? `${v.slice(0, widths[i] - 1)}…` : v.padEnd(widths[i]))).join('  ').trimEnd();
  process.stdout.write(`${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), caption].join('\n')}\n`);
}
