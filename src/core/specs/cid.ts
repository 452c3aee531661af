/** Pick the VMM's CID window against the windows other VMMs hold (Dstack-TEE/dstack: dstack/crates/dstackup/src/cid.rs). */
import { RefusedError } from "../errors.ts";

export type CidRange = [start: number, end: number];

const overlaps = (a: CidRange, b: CidRange) => a[0] < b[1] && b[0] < a[1];

export function pickCidStart(occupied: CidRange[], poolSize = 1000, explicit?: number): { start: number; moved: boolean } {
  if (explicit !== undefined) {
    const want: CidRange = [explicit, explicit + poolSize];
    const clash = occupied.find((r) => overlaps(want, r));
    if (clash) {
      const next = Math.max(1000, Math.ceil(Math.max(...occupied.map((r) => r[1])) / 1000) * 1000);
      throw new RefusedError(
        `--cid-start ${explicit}: CIDs ${want[0]}-${want[1] - 1} overlap ${clash[0]}-${clash[1] - 1}, held by another dstack-vmm`,
        {
          hint: `use --cid-start ${next}, or leave it out to pick a free block`,
        },
      );
    }
    return { start: explicit, moved: false };
  }
  const def: CidRange = [1000, 1000 + poolSize];
  if (!occupied.some((r) => overlaps(def, r))) return { start: 1000, moved: false };
  const highest = Math.max(...occupied.map((r) => r[1]));
  return { start: Math.max(1000, Math.ceil(highest / 1000) * 1000), moved: true };
}
