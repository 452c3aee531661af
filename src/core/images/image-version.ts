/** Guest image versions: dstack-vmm refuses to start a CVM from an image older than 0.5.0 (Dstack-TEE/dstack: dstack/vmm/src/app.rs). */
export const MIN_IMAGE_VERSION: [number, number, number] = [0, 5, 0];

/** Is `v` ("0.5.3", "0.5.3-dev", "v0.5.3") at least `min`? An unparsable version is not. */
export function versionAtLeast(v: string, min: [number, number, number] = MIN_IMAGE_VERSION): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  if (!m) return false;
  const p = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) if (p[i] !== min[i]) return p[i]! > min[i]!;
  return true;
}
