/**
 * `volumes:` (dstackai/dstack: src/dstack/_internal/core/models/volumes.py `parse_mount_point`).
 * `"src:dst"` with a `/` in src is an instance volume, else a network volume `{name, path}`;
 * objects `{instance_path, path, optional}` and `{name: str|[str], path}`. Paths are absolute,
 * without `..`.
 */
import { GrammarError } from "./grammar-error.ts";

export type VolumeSpec =
  | { kind: "instance"; instancePath: string; path: string; optional: boolean }
  | { kind: "network"; name: string[]; path: string };

function checkPath(p: string, what: string): string {
  if (!p.startsWith("/")) throw new GrammarError(`${what} ${JSON.stringify(p)} must be absolute`);
  if (p.split("/").includes("..")) throw new GrammarError(`${what} ${JSON.stringify(p)} must not contain ..`);
  return p;
}

export function parseVolume(v: unknown): VolumeSpec {
  if (typeof v === "string") {
    const i = v.indexOf(":");
    if (i <= 0 || i === v.length - 1) throw new GrammarError(`Invalid volume ${JSON.stringify(v)}: use SRC:DST`);
    const src = v.slice(0, i);
    const path = checkPath(v.slice(i + 1), "the volume path");
    if (src.includes("/")) return { kind: "instance", instancePath: checkPath(src, "the instance path"), path, optional: false };
    return { kind: "network", name: [src], path };
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.path !== "string") throw new GrammarError("path: Field required (an absolute path in the container)");
    const path = checkPath(o.path, "the volume path");
    if ("instance_path" in o) {
      const extra = Object.keys(o).filter((k) => !["instance_path", "path", "optional"].includes(k));
      if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (an instance volume has instance_path, path, optional)`);
      if (typeof o.instance_path !== "string") throw new GrammarError("instance_path: Input should be a valid string");
      if (o.optional !== undefined && typeof o.optional !== "boolean") throw new GrammarError("optional: Input should be a valid boolean");
      return { kind: "instance", instancePath: checkPath(o.instance_path, "the instance path"), path, optional: o.optional === true };
    }
    const extra = Object.keys(o).filter((k) => !["name", "path"].includes(k));
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a network volume has name and path)`);
    const name = Array.isArray(o.name) ? o.name.map(String) : typeof o.name === "string" ? [o.name] : undefined;
    if (!name?.length) throw new GrammarError("name: Field required");
    return { kind: "network", name, path };
  }
  throw new GrammarError("Input should be SRC:DST or a volume mapping");
}
