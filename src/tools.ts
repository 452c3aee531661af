/** The names the multi-call binary answers to, and where each tool's root command lives. */
import type { AnyCommand } from "./cmd/shared/command.ts";

export const tools = {
  dstack: () => import("./cmd/dstack/index.ts").then((m) => m.default),
  dstackup: () => import("./cmd/dstackup/index.ts").then((m) => m.default),
  "dstack-auth": () => import("./cmd/dstack-auth/index.ts").then((m) => m.default),
  "dstack-vmm-sim": () => import("./cmd/dstack-vmm-sim/index.ts").then((m) => m.default),
} satisfies Record<string, () => Promise<AnyCommand>>;

export type ToolName = keyof typeof tools;

export function isTool(name: string): name is ToolName {
  return Object.hasOwn(tools, name);
}
