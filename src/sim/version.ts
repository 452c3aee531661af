/** What the simulator answers to Version, and the headers the VMM puts on every response (Dstack-TEE/dstack: dstack/vmm/src/main.rs). */
export const SIM_VERSION = { version: "0.6.0-sim", rev: `simulated, no TEE (dstack toolchain)` };

export const HEADERS = { "x-app-version": `v${SIM_VERSION.version} (${SIM_VERSION.rev})`, "x-accel-buffering": "no" };
