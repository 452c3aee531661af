/**
 * The simulator's VM table, persisted under run_path exactly as the real VMM
 * lays out a VM's work dir (vm-manifest.json, vm-state.json, shared/, logs),
 * so a restarted simulator finds its VMs again.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../core/fsutil.ts";
import { sha256Bytes } from "../core/hash.ts";
import type { GuestEvent, VmConfiguration, VmInfo } from "../core/vmm/types.ts";

export interface VmRecord {
  id: string;
  config: VmConfiguration;
  appId: string;
  cid: number;
  createdAtMs: number;
  /** persisted: the operator wants it running */
  started: boolean;
  /** the simulated process is up */
  running: boolean;
  removing: boolean;
  startedAtMs: number | null;
  stoppedAtMs: number | null;
  bootProgress: string;
  bootError: string;
  shutdownProgress: string;
  instanceId: string | null;
  imageVersion: string;
  events: GuestEvent[];
  /** bumped on every start/stop so a stale boot sequence stops itself */
  generation: number;
}

export class VmStore {
  readonly vms = new Map<string, VmRecord>();
  constructor(
    readonly runPath: string,
    readonly eventBufferSize: number,
  ) {
    mkdirSync(runPath, { recursive: true });
  }

  dir(id: string): string {
    return join(this.runPath, id);
  }

  logPath(id: string, ch: "serial" | "stdout" | "stderr"): string {
    return join(this.dir(id), `${ch}.log`);
  }

  log(id: string, ch: "serial" | "stdout" | "stderr", line: string): void {
    try {
      appendFileSync(this.logPath(id, ch), line.endsWith("\n") ? line : `${line}\n`);
    } catch {
      /* VM dir removed meanwhile */
    }
  }

  persist(vm: VmRecord): void {
    const d = this.dir(vm.id);
    mkdirSync(join(d, "shared"), { recursive: true });
    writeAtomic(
      join(d, "vm-manifest.json"),
      `${JSON.stringify({
        id: vm.id,
        config: vm.config,
        app_id: vm.appId,
        cid: vm.cid,
        created_at_ms: vm.createdAtMs,
        image_version: vm.imageVersion,
      })}\n`,
    );
    // `exited`/`boot_error` are the simulator's own: they keep a failed boot failed across a restart;
    // `booted`: a boot that got to the end (a VM without an instance id has nothing else to show it)
    const booted = vm.running && (vm.bootProgress === "done" || vm.bootProgress === "running");
    writeAtomic(
      join(d, "vm-state.json"),
      `${JSON.stringify({ started: vm.started, exited: vm.started && !vm.running, boot_error: vm.bootError, booted })}\n`,
    );
    if (vm.instanceId)
      writeAtomic(join(d, "shared", ".instance_info"), `${JSON.stringify({ app_id: vm.appId, instance_id: vm.instanceId })}\n`);
  }

  /** Load every VM dir; VMs that were running keep running (the VMM's reload). */
  load(): void {
    for (const id of readdirSync(this.runPath)) {
      const d = this.dir(id);
      if (!existsSync(join(d, "vm-manifest.json"))) continue;
      if (existsSync(join(d, ".removing"))) {
        rmSync(d, { recursive: true, force: true });
        continue;
      }
      try {
        const m = JSON.parse(readFileSync(join(d, "vm-manifest.json"), "utf8"));
        const s = JSON.parse(readFileSync(join(d, "vm-state.json"), "utf8"));
        let instanceId: string | null = null;
        try {
          instanceId = JSON.parse(readFileSync(join(d, "shared", ".instance_info"), "utf8")).instance_id ?? null;
        } catch {
          /* not booted yet */
        }
        const started = s.started === true;
        const exited = started && s.exited === true;
        this.vms.set(id, {
          id,
          config: m.config,
          appId: m.app_id,
          cid: m.cid,
          createdAtMs: m.created_at_ms,
          started,
          running: started && !exited,
          removing: false,
          startedAtMs: started ? Date.now() : null,
          stoppedAtMs: exited ? Date.now() : null,
          // what the real VMM shows for a VM that kept running across its restart; "" = its boot was
          // cut short with the simulator (state files from before `booted` judge by the instance id)
          bootProgress: started && !exited && (typeof s.booted === "boolean" ? s.booted : instanceId !== null) ? "running" : "",
          bootError: exited && typeof s.boot_error === "string" ? s.boot_error : "",
          shutdownProgress: "",
          instanceId,
          imageVersion: m.image_version ?? "",
          events: [],
          generation: 0,
        });
      } catch {
        /* a broken dir is skipped, as the VMM skips VMs it cannot load */
      }
    }
  }

  event(vm: VmRecord, event: string, body: string): void {
    vm.events.push({ event, body, timestamp: Date.now() });
    while (vm.events.length > this.eventBufferSize) vm.events.shift();
  }

  remove(id: string): void {
    this.vms.delete(id);
    try {
      rmSync(this.dir(id), { recursive: true, force: true });
    } catch {
      /* files a container wrote into the guest root as another user: the VM is gone, its dir stays */
    }
  }

  markRemoving(vm: VmRecord): void {
    vm.removing = true;
    try {
      writeFileSync(join(this.dir(vm.id), ".removing"), "");
    } catch {
      /* ignore */
    }
  }
}

function humantime(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [d ? `${d}day${d > 1 ? "s" : ""}` : "", h ? `${h}h` : "", m ? `${m}m` : "", `${s}s`].filter(Boolean);
  return parts.join(" ");
}

export function statusOf(vm: VmRecord): string {
  if (vm.removing) return "removing";
  if (vm.started) return vm.running ? "running" : "exited";
  return vm.running ? "stopping" : "stopped";
}

export function vmInfo(vm: VmRecord, brief: boolean): VmInfo {
  const now = Date.now();
  return {
    id: vm.id,
    name: vm.config.name,
    status: statusOf(vm),
    uptime: vm.startedAtMs ? humantime(now - vm.startedAtMs) : "never",
    app_url: null,
    app_id: vm.appId,
    instance_id: vm.instanceId,
    configuration: brief ? null : vm.config,
    exited_at: vm.stoppedAtMs && !vm.running ? humantime(now - vm.stoppedAtMs) : "never",
    boot_progress: vm.bootProgress,
    boot_error: vm.bootError,
    shutdown_progress: vm.shutdownProgress,
    image_version: vm.imageVersion,
    events: vm.events,
    interfaces: [{ mode: "user", backend: "slirp", mac: macFor(vm.id), bridge_name: null, netdev_id: "net0" }],
  };
}

function macFor(id: string): string {
  const h = sha256Bytes(id);
  const b = [(h[0]! & 0xfe) | 0x02, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}
