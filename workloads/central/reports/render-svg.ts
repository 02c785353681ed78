import { logger, parse, View, Warn } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Thrown when Vega-Lite or Vega warns about a spec: our specs are fixed code, so a warning is a bug. */
export class ChartSpecError extends Error {
  override readonly name = "ChartSpecError";
}

/**
 * Vega-Lite spec → SVG text, in Node with vega's headless renderer: no canvas package, no
 * browser, no network (every spec carries its data inline). Text widths are estimated by vega,
 * which is fine for axis layout.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const warnings: string[] = [];
  const collect = logger(Warn);
  collect.warn = (...args: readonly unknown[]) => {
    warnings.push(args.map(String).join(" "));
    return collect;
  };
  const compiled = compile(spec, { logger: collect }).spec;
  if (warnings.length > 0) throw new ChartSpecError(`chart spec: ${warnings.join("; ")}`);
  const view = new View(parse(compiled), { renderer: "none", logger: collect });
  try {
    const svg = await view.toSVG();
    if (warnings.length > 0) throw new ChartSpecError(`chart: ${warnings.join("; ")}`);
    return svg;
  } finally {
    view.finalize();
  }
}
