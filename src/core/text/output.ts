/** Pure text formatting for command output. Printing happens in src/cmd. */

export interface Column<T> {
  header: string;
  get: (row: T) => string;
  /** Right-align (numbers). */
  right?: boolean;
  /** The widest this column's cells may be when the table is truncated (names, images, messages). */
  max?: number;
}

export interface TableOptions {
  /** Cut cells longer than their column's `max` with `…`, as docker does on a terminal (not with --no-trunc). */
  trunc?: boolean;
}

/** An aligned table: a header line then one line per row, columns separated by 3 spaces. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[], o: TableOptions = {}): string {
  const cell = (c: Column<T>, r: T) => {
    const s = sanitizeCell(c.get(r));
    return o.trunc && c.max !== undefined ? ellipsis(s, c.max) : s;
  };
  const cells = rows.map((r) => columns.map((c) => cell(c, r)));
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

/**
 * `s` cut to `max` characters, the last one `…` (docker's formatter.Ellipsis, by code point: the
 * table pads by characters too). Shorter strings are unchanged; `max` 1 keeps the first character.
 */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, Math.max(max, 0)).join("");
  return `${chars.slice(0, max - 1).join("")}…`;
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

/**
 * One frame of a table redrawn in place on a terminal (`ps -w`), as `docker stats` draws: the
 * first frame clears the screen; every frame starts at the top-left, erases the rest of each line
 * it writes and everything below the table, so a shorter table leaves nothing of the last one.
 */
export function redrawFrame(text: string, first: boolean): string {
  const lines = text.replace(/\n$/, "").split("\n");
  return `${first ? "\x1b[2J" : ""}\x1b[H${lines.map((l) => `${l}\x1b[K`).join("\n")}\n\x1b[J`;
}
