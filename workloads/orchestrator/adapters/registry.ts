import { loadCatalog } from "../../../tiers/catalog.js";
import type { ToolName } from "../../../tiers/schema/names.js";
import type { AdapterConfig, ToolAdapter } from "./adapter.js";
import { createCommandAdapter } from "./command.js";
import { createElbenchoAdapter } from "./elbencho.js";
import { createFioAdapter } from "./fio.js";
import { createHttpLoadAdapter } from "./http-load.js";
import { createIperf3Adapter } from "./iperf3.js";
import { createStressNgAdapter } from "./stress-ng.js";

/** One factory per tool: a tool without an adapter is a compile error (k6's executor registry). */
export const ADAPTER_FACTORIES: Readonly<Record<ToolName, (config: AdapterConfig) => ToolAdapter>> = {
  "http-load": createHttpLoadAdapter,
  iperf3: createIperf3Adapter,
  fio: createFioAdapter,
  "stress-ng": createStressNgAdapter,
  elbencho: createElbenchoAdapter,
  command: createCommandAdapter,
};

/**
 * The adapter for `tool`, using the environment's binary for it when it names one, else the
 * catalog's (`tiers/catalog/tools.yaml`).
 */
export function createAdapter(
  tool: ToolName,
  tools?: Readonly<Partial<Record<ToolName, string>>>,
): ToolAdapter {
  const binary = tools?.[tool] ?? loadCatalog().tools[tool].binary;
  return ADAPTER_FACTORIES[tool]({ binary });
}
