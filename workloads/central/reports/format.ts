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

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}
