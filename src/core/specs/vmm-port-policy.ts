/**
 * The port-mapping policy of a vmm.toml ([cvm.port_mapping] enabled and range,
 * Dstack-TEE/dstack: dstack/vmm/src/config.rs): what host ports a CreateVm may map. Absent keys take
 * the upstream defaults the simulator also uses.
 */

import { parseToml } from "../render/toml.ts";
import { DEFAULT_PORT_POLICY, type PortPolicy } from "./ports.ts";

type Table = Record<string, unknown>;
const table = (v: unknown): Table => (v && typeof v === "object" && !Array.isArray(v) ? (v as Table) : {});

export function portPolicyFromVmmToml(text: string, label = "vmm.toml"): PortPolicy {
  return portPolicyOf(parseToml(text, label));
}

/** The same, from a vmm.toml already parsed. */
export function portPolicyOf(vmmToml: unknown): PortPolicy {
  const pm = table(table(table(vmmToml).cvm).port_mapping);
  const ranges = Array.isArray(pm.range)
    ? (pm.range as unknown[]).map(table).map((r) => ({
        protocol: typeof r.protocol === "string" ? r.protocol : "tcp",
        from: typeof r.from === "number" ? r.from : 1,
        to: typeof r.to === "number" ? r.to : 20000,
      }))
    : DEFAULT_PORT_POLICY.ranges;
  return { enabled: pm.enabled === true, ranges };
}
