/**
 * dstack-vmm-sim: the VMM's external API (reference/vmm.md §1–§7) over a unix
 * socket or TCP, with the same routes, JSON rules, validation messages, auth
 * and status model; CVMs are simulated (src/sim/boot.ts).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { appIdOf, composeHashOf } from "../core/compose/app-compose.ts";
import { parseAppCompose } from "../core/compose/app-compose-parse.ts";
import { versionAtLeast } from "../core/images/image-version.ts";
import { inRanges, mappingsOverlap } from "../core/specs/ports.ts";
import type { PortMapping, UpdateVmRequest, VmConfiguration } from "../core/vmm/types.ts";
import { defaultVmConfiguration } from "../core/vmm/types.ts";
import { imageVersion, listImages, readImage } from "../host/images/images.ts";
import { bootVm, envKeyFor, SIM_MARK } from "./boot.ts";
import type { SimConfig } from "./config.ts";
import { statusOf, type VmRecord, VmStore, vmInfo } from "./store.ts";

export const SIM_VERSION = { version: "0.6.0-sim", rev: `simulated, no TEE (dstack toolchain)` };

class RpcError extends Error {}

const NAME_RE = /^[A-Za-z0-9\-_. @~!$^()]*$/;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

function isIp(a: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(a)) return a.split(".").every((x) => Number(x) <= 255);
  return a.includes(":") && /^[0-9a-fA-F:.]+$/.test(a);
}

function canon(a: string): string {
  return a === "::" ? "::" : a;
}

type Obj = Record<string, unknown>;

function typed(body: Obj, key: string, kind: "string" | "number" | "boolean" | "array", optional = false): void {
  const v = body[key];
  if (v === undefined) return;
  if (v === null) {
    if (optional) return;
    throw new RpcError(`invalid type: null, expected ${kind === "number" ? "u32" : kind === "array" ? "a sequence" : `a ${kind}`}`);
  }
  const ok =
    kind === "array" ? Array.isArray(v) : kind === "number" ? typeof v === "number" && Number.isInteger(v) && v >= 0 : typeof v === kind;
  if (!ok)
    throw new RpcError(
      `invalid type: ${JSON.stringify(v)}, expected ${kind === "number" ? "u32" : kind === "array" ? "a sequence" : `a ${kind}`} for field \`${key}\``,
    );
}

export class Simulator {
  readonly store: VmStore;
  readonly seed: Uint8Array;
  private boots = new Set<Promise<void>>();

  constructor(readonly cfg: SimConfig) {
    this.store = new VmStore(cfg.runPath, cfg.eventBufferSize);
    const seedPath = join(cfg.runPath, ".sim-kms-seed");
    if (!existsSync(seedPath)) {
      mkdirSync(cfg.runPath, { recursive: true });
      writeFileSync(seedPath, randomBytes(32), { mode: 0o600 });
    }
    this.seed = new Uint8Array(readFileSync(seedPath));
    this.store.load();
  }

  private startBoot(vm: VmRecord): void {
    vm.generation++;
    vm.running = true;
    vm.started = true;
    vm.startedAtMs = Date.now();
    vm.stoppedAtMs = null;
    vm.bootError = "";
    vm.shutdownProgress = "";
    vm.bootProgress = "booting";
    this.store.persist(vm);
    const p = bootVm(this.cfg, this.store, vm, this.seed).catch((e) => {
      vm.bootError = `Boot failed: ${(e as Error).message}`;
      this.store.log(vm.id, "serial", vm.bootError);
      vm.running = false;
    });
    this.boots.add(p);
    void p.finally(() => this.boots.delete(p));
  }

  private stop(vm: VmRecord): void {
    vm.generation++;
    vm.started = false;
    if (vm.running) vm.stoppedAtMs = Date.now();
    vm.running = false;
    this.store.persist(vm);
  }

  private get(id: unknown, what = "VM not found"): VmRecord {
    if (typeof id !== "string") throw new RpcError("invalid type: expected a string for field `id`");
    const vm = this.store.vms.get(id);
    if (!vm) throw new RpcError(what);
    return vm;
  }

  private checkPorts(ports: PortMapping[], selfId: string | undefined, checkPolicy: boolean): PortMapping[] {
    if (!Array.isArray(ports)) throw new RpcError("invalid type: expected a sequence for field `ports`");
    if (ports.length && checkPolicy && !this.cfg.portMapping.enabled) throw new RpcError("Port mapping is disabled");
    const out: PortMapping[] = [];
    for (const p of ports) {
      if (typeof p !== "object" || p === null) throw new RpcError("invalid type: expected struct PortMapping");
      const proto = String(p.protocol ?? "");
      const hp = Number(p.host_port ?? 0);
      const vp = Number(p.vm_port ?? 0);
      if (hp > 65535) throw new RpcError("Invalid host port");
      if (vp > 65535) throw new RpcError("Invalid vm port");
      if (checkPolicy && !inRanges(proto, hp, this.cfg.portMapping.ranges))
        throw new RpcError(`Port mapping is not allowed for ${proto}:${hp}`);
      if (proto !== "tcp" && proto !== "udp") throw new RpcError("Invalid protocol");
      const addr = String(p.host_address ?? "") || (checkPolicy ? this.cfg.portMapping.address : "");
      if (!isIp(addr)) throw new RpcError("Invalid host address");
      out.push({ protocol: proto, host_port: hp, vm_port: vp, host_address: canon(addr) });
    }
    for (let i = 0; i < out.length; i++) {
      for (let j = 0; j < i; j++) {
        if (mappingsOverlap(out[i]!, out[j]!))
          throw new RpcError(`duplicate host port mapping: ${out[i]!.protocol} ${out[i]!.host_address}:${out[i]!.host_port}`);
      }
      for (const other of this.store.vms.values()) {
        if (other.id === selfId) continue;
        for (const m of other.config.ports) {
          if (mappingsOverlap(out[i]!, m)) {
            throw new RpcError(
              `host port mapping conflicts with VM ${other.id}: ${out[i]!.protocol} ${out[i]!.host_address}:${out[i]!.host_port}`,
            );
          }
        }
      }
    }
    return out;
  }

  private checkCompose(text: unknown): void {
    if (typeof text !== "string") throw new RpcError("invalid type: expected a string for field `compose_file`");
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new RpcError("invalid app compose JSON");
    }
    const kp = (raw as Obj)?.key_provider;
    if (kp !== undefined && kp !== null && !["none", "kms", "local", "tpm"].includes(String(kp)))
      throw new RpcError("invalid key_provider");
  }

  createVm(body: Obj): { id: string } {
    for (const [k, t] of [
      ["name", "string"],
      ["image", "string"],
      ["compose_file", "string"],
      ["vcpu", "number"],
      ["memory", "number"],
      ["disk_size", "number"],
      ["ports", "array"],
      ["encrypted_env", "string"],
      ["user_config", "string"],
      ["stopped", "boolean"],
      ["kms_urls", "array"],
      ["gateway_urls", "array"],
    ] as const)
      typed(body, k, t);
    typed(body, "app_id", "string", true);
    const cfg: VmConfiguration = { ...defaultVmConfiguration(), ...(body as Partial<VmConfiguration>) };
    if (!NAME_RE.test(cfg.name)) throw new RpcError(`Invalid name: ${cfg.name}`);
    const ports = this.checkPorts(cfg.ports, undefined, true);
    const gpus = cfg.gpus;
    if (gpus !== null && gpus !== undefined) {
      if (!["listed", "all"].includes(gpus.attach_mode)) throw new RpcError(`Invalid GPU attach mode: ${gpus.attach_mode ?? ""}`);
      if ((gpus.gpus?.length ?? 0) > 0 || gpus.attach_mode === "all") throw new RpcError("GPU is not enabled");
    }
    if (!/^[0-9a-fA-Fx]*$/.test(cfg.encrypted_env)) throw new RpcError("invalid hex in field `encrypted_env`");
    this.checkCompose(cfg.compose_file);
    const appId = cfg.app_id ? cfg.app_id.replace(/^(0x)+/i, "").toLowerCase() : appIdOf(composeHashOf(cfg.compose_file));
    // load_vm: image, compose, CID
    if (!cfg.image || cfg.image.length > 64 || cfg.image.includes("..") || !/^[A-Za-z0-9_.-]+$/.test(cfg.image))
      throw new RpcError("Failed to load VM: Invalid image name");
    const img = readImage(this.cfg.imagePath, cfg.image);
    if (!img)
      throw new RpcError(
        `Failed to load VM: Failed to load image: ${join(this.cfg.imagePath, cfg.image, "metadata.json")}: No such file or directory (os error 2)`,
      );
    try {
      parseAppCompose(cfg.compose_file);
    } catch (e) {
      throw new RpcError(`Failed to load VM: Failed to read compose file: ${(e as Error).message}`);
    }
    const used = new Set([...this.store.vms.values()].map((v) => v.cid));
    let cid = -1;
    for (let c = this.cfg.cidStart; c < this.cfg.cidStart + this.cfg.cidPoolSize; c++) {
      if (!used.has(c)) {
        cid = c;
        break;
      }
    }
    if (cid < 0) throw new RpcError("Failed to load VM: CID pool exhausted");
    const version = imageVersion(cfg.image, img.version);
    if (!cfg.stopped && !versionAtLeast(version))
      throw new RpcError(`failed to start process: Unsupported image version: (${version || "unknown"})`);
    const id = randomUUID();
    const vm: VmRecord = {
      id,
      config: { ...cfg, ports, app_id: appId, gpus: cfg.gpus ?? { gpus: [], attach_mode: "listed" } },
      appId,
      cid,
      createdAtMs: Date.now(),
      started: false,
      running: false,
      removing: false,
      startedAtMs: null,
      stoppedAtMs: null,
      bootProgress: "",
      bootError: "",
      shutdownProgress: "",
      instanceId: null,
      imageVersion: version,
      events: [],
      generation: 0,
    };
    this.store.vms.set(id, vm);
    this.store.persist(vm);
    writeFileSync(join(this.store.dir(id), "shared", "app-compose.json"), cfg.compose_file);
    if (!cfg.stopped) this.startBoot(vm);
    return { id };
  }

  updateVm(body: Obj): { id: string } {
    const req = body as unknown as UpdateVmRequest;
    const vm = this.get(req.id, `The instance ${String(req.id)} not found`);
    let out = "";
    if (req.compose_file) {
      try {
        this.checkCompose(req.compose_file);
        parseAppCompose(req.compose_file);
      } catch {
        throw new RpcError("Invalid compose file");
      }
      vm.config = { ...vm.config, compose_file: req.compose_file };
      writeFileSync(join(this.store.dir(vm.id), "shared", "app-compose.json"), req.compose_file);
      out = appIdOf(composeHashOf(req.compose_file));
    }
    if (req.encrypted_env) vm.config = { ...vm.config, encrypted_env: req.encrypted_env };
    if (req.user_config) vm.config = { ...vm.config, user_config: req.user_config };
    const resize = [req.vcpu, req.memory, req.disk_size, req.image].some((x) => x !== undefined && x !== null);
    if (resize) {
      if (!["stopped", "exited"].includes(statusOf(vm))) throw new RpcError(`vm should be stopped before resize: ${vm.id}`);
      if (req.disk_size != null && req.disk_size < vm.config.disk_size) throw new RpcError("Cannot shrink disk size");
      vm.config = {
        ...vm.config,
        ...(req.vcpu != null ? { vcpu: req.vcpu } : {}),
        ...(req.memory != null ? { memory: req.memory } : {}),
        ...(req.disk_size != null ? { disk_size: req.disk_size } : {}),
        ...(req.image != null ? { image: req.image } : {}),
      };
    }
    if (req.update_ports) vm.config = { ...vm.config, ports: this.checkPorts(req.ports ?? [], vm.id, false) };
    if (req.update_kms_urls) vm.config = { ...vm.config, kms_urls: req.kms_urls ?? [] };
    if (req.update_gateway_urls) vm.config = { ...vm.config, gateway_urls: req.gateway_urls ?? [] };
    this.store.persist(vm);
    return { id: out };
  }

  /**
   * Fault injection for tests of the callers: DSTACK_SIM_FAULTS=CreateVm,StartVm makes those
   * methods fail with a 400 as a refusing VMM would.
   */
  private readonly faults = new Set(
    (process.env.DSTACK_SIM_FAULTS ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

  async dispatch(method: string, body: Obj): Promise<unknown> {
    const name = method.replace(/^(Teepod\.)+/, "");
    if (this.faults.has(name)) throw new RpcError(`simulated fault: ${name} refused (DSTACK_SIM_FAULTS)`);
    switch (name) {
      case "CreateVm":
        return this.createVm(body);
      case "StartVm": {
        const vm = this.get(body.id, "Failed to start VM: VM not found");
        if (vm.removing) throw new RpcError("VM is being removed");
        if (vm.running) {
          vm.generation++; // a shutdown in flight no longer ends the process
          vm.started = true;
          vm.bootProgress = "running";
          this.store.persist(vm);
        } else this.startBoot(vm);
        return null;
      }
      case "StopVm":
        this.stop(this.get(body.id, "Failed to stop VM: VM not found"));
        return null;
      case "ShutdownVm": {
        const vm = this.get(body.id, "vm not found");
        vm.shutdownProgress = "powering off";
        this.store.event(vm, "shutdown.progress", "powering off");
        this.store.log(vm.id, "serial", "[dstack-vmm-sim] shutdown requested: powering off");
        if (!vm.running) {
          this.stop(vm);
          return null;
        }
        // As on the real VMM: the guest's "powering off" clears `started` while the
        // process still runs (status `stopping`); the process ends a moment later.
        vm.started = false;
        this.store.persist(vm);
        const gen = ++vm.generation;
        setTimeout(() => {
          if (vm.generation !== gen || vm.removing) return;
          this.store.log(vm.id, "serial", "[dstack-vmm-sim] powered off");
          this.stop(vm);
        }, this.cfg.bootStepMs * 3);
        return null;
      }
      case "RemoveVm": {
        const vm = this.get(body.id, "Failed to remove VM: VM not found");
        if (vm.removing) return null;
        this.store.markRemoving(vm);
        this.stop(vm);
        vm.removing = true;
        setTimeout(() => this.store.remove(vm.id), 50);
        return null;
      }
      case "UpgradeApp":
      case "UpdateVm":
        return this.updateVm(body);
      case "Status": {
        typed(body, "ids", "array");
        typed(body, "brief", "boolean");
        typed(body, "keyword", "string");
        typed(body, "page", "number");
        typed(body, "page_size", "number");
        const ids = (body.ids as string[] | undefined) ?? [];
        const kw = (body.keyword as string | undefined) ?? "";
        let list = [...this.store.vms.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
        if (ids.length) list = list.filter((v) => ids.includes(v.id));
        if (kw) list = list.filter((v) => [v.config.name, v.id, v.appId, v.config.image].some((s) => s.includes(kw)));
        const total = list.length;
        const page = Number(body.page ?? 0);
        const size = Number(body.page_size ?? 0);
        if (page > 0 && size > 0) list = list.slice((page - 1) * size, page * size);
        return { vms: list.map((v) => vmInfo(v, body.brief === true)), port_mapping_enabled: this.cfg.portMapping.enabled, total };
      }
      case "GetInfo": {
        const vm = typeof body.id === "string" ? this.store.vms.get(body.id) : undefined;
        return vm ? { found: true, info: vmInfo(vm, false) } : { found: false, info: null };
      }
      case "ListImages":
        return {
          images: listImages(this.cfg.imagePath).map((i) => {
            const meta = JSON.parse(readFileSync(join(i.dir, "metadata.json"), "utf8")) as Obj;
            const view = Object.fromEntries(
              [
                "cmdline",
                "kernel",
                "initrd",
                "hda",
                "rootfs",
                "bios",
                "bios-sev",
                "rootfs_hash",
                "shared_ro",
                "version",
                "is_dev",
                "ovmf_variant",
              ].map((k) => [k, k === "version" ? i.version : (meta[k] ?? (k === "shared_ro" || k === "is_dev" ? false : null))]),
            );
            return { name: i.name, description: JSON.stringify(view), version: i.version, is_dev: i.isDev };
          }),
        };
      case "GetMeta":
        return {
          kms: { url: this.cfg.kmsUrls[0] ?? "", urls: this.cfg.kmsUrls },
          gateway: {
            url: this.cfg.gatewayUrls[0] ?? "",
            base_domain: "localhost",
            port: 8082,
            agent_port: 8090,
            urls: this.cfg.gatewayUrls,
          },
          resources: {
            max_cvm_number: this.cfg.cidPoolSize,
            max_allocable_vcpu: this.cfg.maxVcpu,
            max_allocable_memory_in_mb: this.cfg.maxMemory,
          },
          networking: { supported_modes: ["user"], default_mode: "user", default_bridge: "" },
        };
      case "Version":
        return SIM_VERSION;
      case "ListGpus":
        return { gpus: [], allow_attach_all: false };
      case "GetComposeHash": {
        const cfg = { ...defaultVmConfiguration(), ...(body as Partial<VmConfiguration>) };
        if (!NAME_RE.test(cfg.name)) throw new RpcError(`Invalid name: ${cfg.name}`);
        this.checkCompose(cfg.compose_file);
        try {
          parseAppCompose(cfg.compose_file);
        } catch (e) {
          throw new RpcError(`Invalid compose file: ${(e as Error).message}`);
        }
        return { hash: composeHashOf(cfg.compose_file) };
      }
      case "GetAppEnvEncryptPubKey": {
        const appId = String(body.app_id ?? "")
          .replace(/^(0x)+/i, "")
          .toLowerCase();
        if (!/^[0-9a-f]{40}$/.test(appId)) throw new RpcError("app_id must be 20 bytes");
        return {
          public_key: envKeyFor(this.seed, appId).publicKey,
          signature: "",
          timestamp: Math.floor(Date.now() / 1000),
          signature_v1: "",
        };
      }
      case "ReloadVms":
        return { loaded: 0, updated: 0, removed: 0 };
      default:
        throw new RpcError(`Service not found: ${method}`);
    }
  }

  /** Wait for boots in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.boots.size) await Promise.all([...this.boots]);
  }
}

// ---- HTTP ---------------------------------------------------------------------------

const HEADERS = { "x-app-version": `v${SIM_VERSION.version} (${SIM_VERSION.rev})`, "x-accel-buffering": "no" };

function errorResponse(msg: string): Response {
  return new Response(JSON.stringify({ error: msg }, null, 2), {
    status: 400,
    headers: { "content-type": "application/json", ...HEADERS },
  });
}

function tokenOk(cfg: SimConfig, presented: string): boolean {
  const h = (s: string) => createHash("sha256").update(s.trim()).digest();
  return cfg.tokens.some((t) => timingSafeEqual(h(t), h(presented)));
}

/** The [auth] fairing: X-Admin-Token, Bearer, Basic (token as password or user), GET ?token=. */
export function authorized(cfg: SimConfig, req: Request, url: URL): boolean {
  if (!cfg.authEnabled) return true;
  const admin = req.headers.get("x-admin-token");
  if (admin && tokenOk(cfg, admin)) return true;
  const a = req.headers.get("authorization");
  if (a) {
    if (/^bearer /i.test(a)) return tokenOk(cfg, a.slice(7));
    if (/^basic /i.test(a)) {
      const dec = Buffer.from(a.slice(6).trim(), "base64").toString();
      const i = dec.indexOf(":");
      const user = i < 0 ? dec : dec.slice(0, i);
      const pass = i < 0 ? "" : dec.slice(i + 1);
      return (pass !== "" && tokenOk(cfg, pass)) || (pass === "" && tokenOk(cfg, user));
    }
    return false;
  }
  if (req.method === "GET") {
    const t = url.searchParams.get("token");
    if (t !== null) return tokenOk(cfg, t);
  }
  return false;
}

function parseBool(v: string | null): boolean | undefined {
  if (v === null) return false;
  const s = v.toLowerCase();
  if (["true", "on", "yes", ""].includes(s)) return true;
  if (["false", "off", "no"].includes(s)) return false;
  return undefined;
}

function tail(path: string, lines: number): { text: string; offset: number } {
  if (!existsSync(path)) return { text: "", offset: 0 };
  const data = readFileSync(path, "utf8");
  const parts = data.split("\n");
  const endsNl = data.endsWith("\n");
  const body = endsNl ? parts.slice(0, -1) : parts;
  const kept = body.slice(Math.max(0, body.length - lines));
  return { text: kept.length ? kept.join("\n") + (endsNl ? "\n" : "") : "", offset: Buffer.byteLength(data) };
}

function logsResponse(sim: Simulator, url: URL, req: Request): Response {
  const id = url.searchParams.get("id");
  if (id === null) return new Response("missing id", { status: 422 });
  const vm = sim.store.vms.get(id);
  if (!vm) return new Response("VM not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", ...HEADERS } });
  const follow = parseBool(url.searchParams.get("follow"));
  const ansi = parseBool(url.searchParams.get("ansi"));
  if (follow === undefined || ansi === undefined) return new Response("unprocessable", { status: 422 });
  const ch = url.searchParams.get("ch") ?? "serial";
  if (!["serial", "stdout", "stderr"].includes(ch)) return new Response(`Unknown channel ${ch}`, { status: 400 });
  const linesRaw = Number(url.searchParams.get("lines"));
  const lines = Number.isInteger(linesRaw) && linesRaw >= 0 && url.searchParams.has("lines") ? linesRaw : 10000;
  const path = sim.store.logPath(id, ch as "serial");
  const strip = (s: string) => (ansi ? s : s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, ""));
  const first = tail(path, lines);
  const headers = { "content-type": "text/plain; charset=utf-8", ...HEADERS };
  if (!follow) return new Response(strip(first.text), { headers });
  let offset = first.offset;
  let lastOut = Date.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      const enc = new TextEncoder();
      if (first.text) c.enqueue(enc.encode(strip(first.text)));
      timer = setInterval(() => {
        try {
          const size = existsSync(path) ? statSync(path).size : 0;
          if (size < offset) offset = 0;
          if (size > offset) {
            const fd = openSync(path, "r");
            const buf = Buffer.alloc(size - offset);
            readSync(fd, buf, 0, buf.length, offset);
            closeSync(fd);
            offset = size;
            c.enqueue(enc.encode(strip(buf.toString("utf8"))));
            lastOut = Date.now();
          } else if (Date.now() - lastOut > 60_000) {
            c.enqueue(enc.encode("[vmm heartbeat]\n"));
            lastOut = Date.now();
          }
        } catch {
          clearInterval(timer);
          try {
            c.close();
          } catch {
            /* closed */
          }
        }
      }, 100);
      req.signal.addEventListener("abort", () => clearInterval(timer));
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(stream, { headers });
}

export async function handle(sim: Simulator, req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (!authorized(sim.cfg, req, url)) {
    return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="dstack-vmm API"', ...HEADERS } });
  }
  if (url.pathname === "/logs" && req.method === "GET") return logsResponse(sim, url, req);
  const m = /^\/prpc\/([^/]+)$/.exec(url.pathname);
  if (m && (req.method === "POST" || req.method === "GET")) {
    let body: Obj = {};
    if (req.method === "GET") {
      for (const [k, v] of url.searchParams) {
        if (k === "json" || k === "token") continue;
        body[k] = v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v;
      }
    } else {
      const text = await req.text();
      const json = url.searchParams.has("json") || (req.headers.get("content-type") ?? "").includes("json");
      if (!json) return errorResponse("protobuf requests are not supported by dstack-vmm-sim; send JSON (?json)");
      if (text.trim() !== "") {
        try {
          const parsed = JSON.parse(text) as unknown;
          if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed)))
            return errorResponse(`invalid type: expected struct`);
          body = (parsed ?? {}) as Obj;
        } catch (e) {
          return errorResponse(`failed to decode json: ${(e as Error).message}`);
        }
      }
    }
    try {
      const out = await sim.dispatch(decodeURIComponent(m[1]!), body);
      return new Response(JSON.stringify(out ?? null), { headers: { "content-type": "application/json", ...HEADERS } });
    } catch (e) {
      return errorResponse(e instanceof Error ? e.message : String(e));
    }
  }
  if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/v1" || url.pathname === "/beta")) {
    const title = sim.cfg.nodeName ? `${sim.cfg.nodeName} | dstack-vmm` : "dstack-vmm";
    return new Response(
      `<!doctype html><title>${title}</title><h1>${title} (${SIM_MARK})</h1><p>${sim.store.vms.size} VMs. This is dstack-vmm-sim: the API of dstack-vmm with simulated CVMs.</p>`,
      {
        headers: { "content-type": "text/html; charset=utf-8", ...HEADERS },
      },
    );
  }
  return new Response("404 Not Found", { status: 404, headers: HEADERS });
}

export interface RunningSim {
  sim: Simulator;
  stop(): Promise<void>;
  url: string;
}

export function serveSimulator(cfg: SimConfig): RunningSim {
  const sim = new Simulator(cfg);
  const a = cfg.address;
  let server: ReturnType<typeof Bun.serve>;
  if (a.kind === "unix") {
    mkdirSync(dirname(a.path), { recursive: true });
    rmSync(a.path, { force: true }); // reuse = true
    server = Bun.serve({ unix: a.path, fetch: (r) => handle(sim, r) });
  } else {
    server = Bun.serve({ hostname: a.host, port: a.port, fetch: (r) => handle(sim, r), idleTimeout: 0 });
  }
  const url = a.kind === "unix" ? `unix:${a.path}` : `http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${server.port}`;
  return {
    sim,
    url,
    async stop() {
      await server.stop(true);
      if (a.kind === "unix") rmSync(a.path, { force: true });
    },
  };
}
