import { escapeControls } from "../../tiers/safe-text.js";

/** A plain text table: columns padded to their widest cell, numbers right-aligned. */
export interface Column {
  readonly header: string;
  readonly align?: "left" | "right";
}

export function renderTable(columns: readonly Column[], raw: readonly (readonly string[])[]): string {
  // Cells may hold what a bundle or a tool said: control and bidi characters are made visible.
  const rows = raw.map((r) => r.map((cell) => escapeControls(cell, { lines: false })));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (columns[i]?.align === "right" ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join(
    "\n",
  );
}
