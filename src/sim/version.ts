/**
 * What the simulator answers to Version, and the headers the VMM puts on every response
 * (Dstack-TEE/dstack: dstack/vmm/src/main.rs): the toolchain's one version, as `--version` and
 * the banner say it, and the commit in `rev` (upstream: "git:<rev>") with what it is.
 */
import { commit, version } from "../core/version.ts";

export const SIM_VERSION = { version, rev: `git:${commit} (dstack-vmm-sim: simulated, no TEE)` };

export const HEADERS = { "x-app-version": `v${SIM_VERSION.version} (${SIM_VERSION.rev})`, "x-accel-buffering": "no" };
