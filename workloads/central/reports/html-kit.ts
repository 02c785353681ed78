import { escapeXml } from "./format.js";

/**
 * A few helpers to write well-formed HTML by construction: every text is escaped, every element
 * closed, so the page is also well-formed XML (the tests parse it with xmllint).
 */
export class Raw {
  constructor(readonly html: string) {}
}

export type Child = string | number | Raw | null | undefined | false | readonly Child[];

function render(child: Child): string {
  if (child === null || child === undefined || child === false) return "";
  if (child instanceof Raw) return child.html;
  if (typeof child === "string" || typeof child === "number") return escapeXml(String(child));
  return child.map(render).join("");
}

export function el(
  tag: string,
  attrs: Record<string, string | number | undefined>,
  ...children: Child[]
): Raw {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("");
  return new Raw(`<${tag}${a}>${children.map(render).join("")}</${tag}>`);
}

export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => Child;
  readonly numeric?: boolean;
  readonly cls?: (row: T) => string | undefined;
}

export function table<T>(columns: readonly Column<T>[], rows: readonly T[], cls?: string): Raw {
  return el(
    "table",
    { class: cls },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        columns.map((c) => el("th", { class: c.numeric ? "num" : undefined }, c.header)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((r) =>
        el(
          "tr",
          {},
          columns.map((c) =>
            el(
              "td",
              { class: [c.numeric ? "num" : "", c.cls?.(r) ?? ""].join(" ").trim() || undefined },
              c.cell(r),
            ),
          ),
        ),
      ),
    ),
  );
}

export function badge(text: string, kind: string): Raw {
  return el("span", { class: `badge ${kind}` }, text);
}
