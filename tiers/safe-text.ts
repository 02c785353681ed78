/**
 * Text that came from outside (a bundle, a tool's output, a file name, a config value) may hold
 * characters a terminal, a log viewer or a report would act on instead of showing: C0 and C1
 * control characters (an ESC starts a terminal escape sequence, U+009B is CSI on some terminals),
 * DEL, bidirectional overrides and isolates (text that displays in another order than it reads:
 * "Trojan Source"), line and paragraph separators, and noncharacters XML refuses. Every place that
 * writes such text for people goes through `escapeControls`, which makes each of them visible as
 * `\u{…}` instead.
 */

/** Code points made visible: C0 (but tab and newline, which callers choose), DEL, C1, bidi, separators. */
const CONTROLS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/g;
const CONTROLS_AND_LINES =
  // eslint-disable-next-line no-control-regex -- as above, with tab and newline too
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const visible = (c: string): string => `\\u{${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}}`;

/**
 * Makes every control, bidi and separator character of `text` visible as `\u{XXXX}`; lone
 * surrogates too. Tab and newline stay unless `lines` is false (one-line fields: table cells,
 * reason files).
 */
export function escapeControls(text: string, { lines = true }: { lines?: boolean } = {}): string {
  return text.replace(lines ? CONTROLS : CONTROLS_AND_LINES, visible).replace(LONE_SURROGATE, visible);
}

/** True when `text` has nothing `escapeControls` would change (tab and newline allowed). */
export function isPrintable(text: string): boolean {
  return escapeControls(text) === text;
}

/**
 * JSON for a terminal or a log: `JSON.stringify` already escapes C0 controls; this escapes DEL,
 * C1, bidi and separator characters too (as `\uXXXX`, so the text is still the same JSON).
 */
export function safeJson(value: unknown, space?: number): string {
  const text = JSON.stringify(value, null, space) ?? "null";
  return text.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
