/** Pure text formatting for command output. Printing happens in src/cmd. */

export interface Column<T> {
  header: string;
  get: (row: T) => string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** An aligned table: a header line then one line per row, columns separated by 3 spaces. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => sanitizeCell(c.get(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : i === vals.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join("\n")}\n`;
}

function sanitizeCell(s: string): string {
  // A cell is one line; control characters from remote data must not reach the terminal.
  return s.replace(/[\u0000-\u001f\u007f]/g, " ");
}

/** Stable, pretty JSON for `--json` output (one document, trailing newline). */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Human size from bytes: 512 B, 1.5 KiB, 20.0 GiB. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
