/**
 * The copy of a user's docker-compose file the simulator runs (the user's bytes, and so the
 * compose hash, are untouched; this copy never leaves the VM's dir):
 *
 * - published ports bind to the VM's guest address (compose-ports.ts);
 * - bind-mount sources, env_file, build contexts and secret/config files are guest paths,
 *   resolved under the VM's guest root (guest-fs.ts): `/var/run/dstack.sock` is the VM's guest
 *   agent, `/var/run/docker.sock` is nothing of the host's, `/:/host` is the VM's own root;
 * - every container, network and volume carries the simulator's labels (so `destroy --purge`
 *   finds what it created and nothing else), and `container_name`s are prefixed with the
 *   project, as two CVMs would each have their own engine;
 * - the top-level `name` goes: the simulator names the project (one per VM).
 */
import { parse, stringify } from "yaml";
import { rebindPort } from "./compose-ports.ts";
import { hostPathOf } from "./guest-fs.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

export interface DeriveInput {
  /** the user's docker-compose YAML (the app-compose's docker_compose_file) */
  yaml: string;
  project: string;
  guestAddress: string;
  guestRoot: string;
  labels: Record<string, string>;
}

export interface Derived {
  yaml: string;
  /** what the serial log should say about the rewrite (no values) */
  notes: string[];
  /** the images compose pulls when the engine lacks them: each service's `image:` with no `build:` (and no `${…}` in it) */
  images: string[];
}

const isBindSource = (s: string) => s.startsWith("/") || s.startsWith(".") || s.startsWith("~");

function rewriteVolume(v: unknown, root: string): unknown {
  if (typeof v === "string") {
    const parts = v.split(":");
    if (parts.length >= 2 && isBindSource(parts[0]!)) return [hostPathOf(root, parts[0]!), ...parts.slice(1)].join(":");
    return v;
  }
  if (isObj(v) && v.type === "bind" && typeof v.source === "string") return { ...v, source: hostPathOf(root, v.source) };
  return v;
}

function withLabels(existing: unknown, labels: Record<string, string>): unknown {
  if (Array.isArray(existing)) return [...existing, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  return { ...(isObj(existing) ? existing : {}), ...labels };
}

function rewriteService(name: string, svc: Obj, i: DeriveInput, notes: string[]): Obj {
  const out: Obj = { ...svc, labels: withLabels(svc.labels, i.labels) };
  if (Array.isArray(svc.ports)) out.ports = svc.ports.map((p) => rebindPort(p, i.guestAddress));
  if (Array.isArray(svc.volumes)) out.volumes = svc.volumes.map((v) => rewriteVolume(v, i.guestRoot));
  if (typeof svc.env_file === "string") out.env_file = hostPathOf(i.guestRoot, svc.env_file);
  if (Array.isArray(svc.env_file))
    out.env_file = svc.env_file.map((f) =>
      typeof f === "string"
        ? hostPathOf(i.guestRoot, f)
        : isObj(f) && typeof f.path === "string"
          ? { ...f, path: hostPathOf(i.guestRoot, f.path) }
          : f,
    );
  if (typeof svc.build === "string") out.build = hostPathOf(i.guestRoot, svc.build);
  if (isObj(svc.build)) out.build = { ...svc.build, context: hostPathOf(i.guestRoot, String(svc.build.context ?? ".")) };
  if (typeof svc.container_name === "string") out.container_name = `${i.project}-${svc.container_name}`;
  if (svc.network_mode === "host")
    notes.push(`service ${name}: network_mode host shares the simulator host's network (a CVM would share its own)`);
  if (svc.privileged === true) notes.push(`service ${name}: privileged containers reach the simulator host, not a CVM`);
  return out;
}

/** Labels on each network and volume the project defines (external ones are not ours). */
function labelTopLevel(section: unknown, labels: Record<string, string>, ensureDefault: boolean): Obj | undefined {
  const src = isObj(section) ? section : {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(src)) {
    const def = isObj(v) ? v : {};
    out[k] = def.external ? v : { ...def, labels: withLabels(def.labels, labels) };
  }
  if (ensureDefault && !("default" in out)) out.default = { labels };
  return Object.keys(out).length ? out : undefined;
}

function rewriteFiles(section: unknown, root: string): unknown {
  if (!isObj(section)) return section;
  return Object.fromEntries(
    Object.entries(section).map(([k, v]) => [k, isObj(v) && typeof v.file === "string" ? { ...v, file: hostPathOf(root, v.file) } : v]),
  );
}

export function deriveCompose(i: DeriveInput): Derived {
  const doc = parse(i.yaml, { merge: true }) as unknown;
  if (!isObj(doc) || !isObj(doc.services)) throw new Error("the docker-compose file has no services");
  const notes: string[] = [];
  const out: Obj = { ...doc };
  delete out.name;
  out.services = Object.fromEntries(Object.entries(doc.services).map(([n, s]) => [n, rewriteService(n, isObj(s) ? s : {}, i, notes)]));
  const networks = labelTopLevel(doc.networks, i.labels, true);
  if (networks) out.networks = networks;
  const volumes = labelTopLevel(doc.volumes, i.labels, false);
  if (volumes) out.volumes = volumes;
  if (doc.secrets) out.secrets = rewriteFiles(doc.secrets, i.guestRoot);
  if (doc.configs) out.configs = rewriteFiles(doc.configs, i.guestRoot);
  const images = Object.values(doc.services)
    .filter(isObj)
    .flatMap((s) => (typeof s.image === "string" && !s.build && !s.image.includes("$") ? [s.image] : []));
  // Written as YAML 1.1, as docker-compose v1 (PyYAML) reads it: strings such as "no", "on",
  // "yes" or "0755" stay quoted, where a YAML 1.2 writer leaves `restart: no` plain and v1 reads a boolean.
  return { yaml: stringify(out, { lineWidth: 0, version: "1.1" }), notes, images: [...new Set(images)] };
}
