/** Pick one VM by name or by a unique id prefix (docker-style). */
import { NotFoundError, UsageError } from "../errors.ts";

export interface Named {
  id: string;
  name: string;
  status?: string;
}

export function selectVm<T extends Named>(vms: T[], ref: string): T {
  const active = vms.filter((v) => v.status !== "removing");
  const exactId = active.find((v) => v.id === ref);
  if (exactId) return exactId;
  const byName = active.filter((v) => v.name === ref);
  if (byName.length === 1) return byName[0]!;
  const byPrefix = ref.length >= 1 ? active.filter((v) => v.id.startsWith(ref)) : [];
  const candidates = [...new Map([...byName, ...byPrefix].map((v) => [v.id, v])).values()];
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw new UsageError(`"${ref}" matches ${candidates.length} VMs:\n${candidates.map((v) => `  ${v.id}  ${v.name}`).join("\n")}`, {
      hint: "use a longer id prefix",
    });
  }
  throw new NotFoundError(`no VM named or with an id starting "${ref}"`, { hint: "see `dstack ps -a`" });
}

/** A VM name derived from an image reference: nginx:1.25 → nginx, ghcr.io/org/my_app@sha256:… → my_app. */
export function nameFromImage(image: string): string {
  const noDigest = image.split("@")[0]!;
  const last = noDigest.split("/").pop()!;
  const base = last.split(":")[0]!;
  return base.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "") || "app";
}
