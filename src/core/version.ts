/** The toolchain's one version (package.json) and commit: every tool, the simulator included, answers with these. */
import pkg from "../../package.json" with { type: "json" };

declare const __DSTACK_COMMIT__: string | undefined;

/** Git commit baked in by scripts/build.ts (`--define`); "dev" when run from source. */
export const commit: string = typeof __DSTACK_COMMIT__ === "string" ? __DSTACK_COMMIT__ : "dev";
export const version: string = pkg.version;

export function versionString(tool: string): string {
  return `${tool} ${version} (${commit})`;
}
