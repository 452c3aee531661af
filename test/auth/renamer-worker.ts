/**
 * A writer thread for the freshness test: publishes allowlist version 1, 2, 3, …
 * by renaming, in a tight loop, and stores the number of the last completed
 * rename in shared memory (slot 0) right after each rename returns. Version N
 * says gatewayAppId N (hex), which every decision echoes. Stops when slot 1 is set.
 */
import { renameSync, writeFileSync } from "node:fs";

declare const self: Worker;

self.onmessage = (e: MessageEvent<{ path: string; shared: SharedArrayBuffer }>) => {
  const { path, shared } = e.data;
  const slots = new Int32Array(shared);
  const tmp = `${path}.tmp`;
  for (let n = 1; Atomics.load(slots, 1) === 0; n++) {
    writeFileSync(tmp, JSON.stringify({ gatewayAppId: n.toString(16), apps: { "0xapp123": { composeHashes: ["0xcompose456"] } } }));
    renameSync(tmp, path);
    Atomics.store(slots, 0, n);
  }
  self.postMessage("stopped");
};
