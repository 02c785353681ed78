import { escapeControls } from "../../../tiers/safe-text.js";
import { formatSi } from "../../../tiers/units.js";
export { phaseOrder } from "../analysis/phase-order.js";

/** Number and text formatting shared by the report views. */

export function fmt(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 1e5) return formatSi(value);
  if (abs !== 0 && abs < 0.01) return value.toExponential(1);
  return String(+value.toFixed(digits));
}

export function pct(ratio: number | null | undefined, digits = 1): string {
  return ratio === null || ratio === undefined
    ? "–"
    : `${ratio >= 0 ? "+" : ""}${(ratio * 100).toFixed(digits)} %`;
}

export function rate(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? "–" : `${(ratio * 100).toFixed(2)} %`;
}

export function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return "–";
  return p < 0.0001 ? "<0.0001" : p.toFixed(4);
}

/** `2025-01-06 09:00 UTC` */
export function when(iso: string | null): string {
  return iso === null ? "–" : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "\t": "&#9;",
  "\n": "&#10;",
};

/**
 * Text for XML and HTML, text or attribute, whatever a tool or a bundle put in it: markup
 * characters as entities, tab and newline as character references (kept through attribute
 * normalisation), and every character XML 1.0 cannot hold (C0 controls, U+FFFE/U+FFFF, unpaired
 * surrogates) — and C1, DEL and bidi controls too — made visible as `\u{…}` (escapeControls).
 */
export function escapeXml(text: string): string {
  return escapeControls(text).replace(/[&<>"'\t\n]/g, (c) => XML_ENTITIES[c]!);
}

/**
 * Text for a Markdown table cell or paragraph (GitHub): one line, controls visible, and what
 * Markdown or its HTML would act on escaped — `|` (a cell boundary even inside code), `\`,
 * backticks, `*`, `[`, `]`, `<` (HTML) and `&` (entities). `>` stays (a quote only at a line's
 * start, where no cell or list item puts one), and so do underscores: metric names are full of
 * them, and GitHub's Markdown does not emphasise inside words.
 */
export function escapeMd(text: string): string {
  return escapeControls(text.replace(/\r?\n|\r/g, " "), { lines: false })
    .replace(/[\\`*[\]|]/g, (c) => `\\${c}`)
    .replace(/[<&]/g, (c) => (c === "<" ? "&lt;" : "&amp;"));
}

/** Inline code for Markdown: the text between backtick fences longer than any run inside it. */
export function mdCode(text: string): string {
  const safe = escapeControls(text.replace(/\r?\n|\r/g, " "), { lines: false }).replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(safe.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = safe.startsWith("`") || safe.endsWith("`") ? " " : "";
  return `${fence}${pad}${safe}${pad}${fence}`;
}
