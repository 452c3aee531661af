/**
 * The apps of a simulated host, for real: when a VM's boot gets its keys, its docker-compose
 * runs as one compose project (own network) whose ports bind to the VM's guest address, the
 * VMM's port mappings are forwarded there, and the containers' output follows on the serial
 * log. StopVm kills the project, ShutdownVm stops it, RemoveVm takes it down with its volumes;
 * a restarted simulator re-adopts the projects of the VMs that kept running. Each running VM
 * serves the guest agent API on its /var/run/dstack.sock (and tappd.sock), engine or not.
 * With no engine (runtime none) the boot says plainly that the containers do not run.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AppCompose } from "../../core/compose/app-compose.ts";
import { KMS_VM_NAME } from "../../core/compose/kms-compose.ts";
import { sha256Hex } from "../../core/hash.ts";
import { NO_ENGINE_EVENT, NO_ENGINE_HINT, type SimRuntime } from "../../core/specs/sim-runtime.ts";
import { type GuestAgent, type GuestVmInfo, startGuestAgent } from "../guest-agent/index.ts";
import type { VmRecord, VmStore } from "../store.ts";
import { agentSockets } from "./agent-socket.ts";
import { composeFailure } from "./compose-failure.ts";
import { followContainers, type LogFollower } from "./container-logs.ts";
import { deriveCompose } from "./derive.ts";
import { type Forward, openForwards } from "./forward.ts";
import { guestAddressOf } from "./guest-address.ts";
import { GUEST_COMPOSE_DIR } from "./guest-fs.ts";
import { composeUp, containersWith, haltAllWith, missingImages, type Project, removeAllWith } from "./project.ts";

export const LABEL_OWNER = "io.dstack-sim.owner";
export const LABEL_VM = "io.dstack-sim.vm";

interface Running {
  forwards: Forward[];
  logs?: LogFollower;
  agent?: GuestAgent;
}

/** The label value naming one simulator (its run_path) in the engine. */
export function ownerOf(runPath: string): string {
  return sha256Hex(`dstack-vmm-sim owner:${runPath}`).slice(0, 16);
}

/** What was appended to `path` from byte `at` on (compose's output of this boot; at most the last 64 KiB). */
function readFrom(path: string, at: number): string {
  const fd = openSync(path, "r");
  try {
    const end = statSync(path).size;
    const from = Math.max(at, end - 65536);
    const buf = Buffer.alloc(Math.max(0, end - from));
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export class AppRuntime {
  readonly owner: string;
  private running = new Map<string, Running>();
  /** one operation at a time per VM, in order */
  private chains = new Map<string, Promise<unknown>>();

  constructor(
    readonly rt: SimRuntime,
    private store: VmStore,
  ) {
    this.owner = ownerOf(store.runPath);
  }

  get enabled(): boolean {
    return this.rt.engine !== "none";
  }

  private serial(vm: VmRecord, line: string) {
    this.store.log(vm.id, "serial", line);
  }

  private queue<T>(id: string, op: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.then(op, op);
    this.chains.set(
      id,
      next.catch(() => {}),
    );
    return next;
  }

  project(vm: VmRecord): Project {
    const dir = join(this.store.dir(vm.id), "sim-compose");
    return { rt: this.rt, name: `dsim-${vm.id.replace(/-/g, "").slice(0, 20)}`, file: join(dir, "docker-compose.yaml"), dir };
  }

  /** The VM's guest root, with /dstack holding the app-compose and the user's compose as on a CVM. */
  private prepareGuest(vm: VmRecord, manifest: AppCompose): string {
    const root = join(this.store.dir(vm.id), "guest");
    for (const d of [GUEST_COMPOSE_DIR, "/run", "/root", "/var"]) mkdirSync(join(root, d), { recursive: true });
    if (!existsSync(join(root, "var", "run"))) symlinkSync("../run", join(root, "var", "run"));
    writeFileSync(join(root, GUEST_COMPOSE_DIR, "app-compose.json"), vm.config.compose_file);
    writeFileSync(join(root, GUEST_COMPOSE_DIR, "docker-compose.yaml"), manifest.docker_compose_file ?? "");
    return root;
  }

  /**
   * Start the VM's app (boot step "starting containers"). `env` is the decrypted env: it
   * reaches compose's environment only. `live` says whether this boot still counts.
   * Throws with the boot error to report.
   */
  start(vm: VmRecord, manifest: AppCompose, env: Record<string, string>, live: () => boolean, guestVm: GuestVmInfo): Promise<void> {
    return this.queue(vm.id, async () => {
      if (manifest.name === KMS_VM_NAME) {
        this.serial(vm, "[dstack-vmm-sim] the KMS CVM is played by the simulator: its containers do not run");
        return;
      }
      this.detach(vm.id); // a start again of a VM that runs (re-adoption) replaces what served it
      const root = this.prepareGuest(vm, manifest);
      const agent = await startGuestAgent({ ...agentSockets(root), vm: guestVm, keyRootPath: join(this.store.runPath, ".sim-kms-root") });
      const running: Running = { forwards: [], agent };
      this.running.set(vm.id, running);
      if (!this.enabled) {
        this.serial(vm, `[dstack-vmm-sim] ${NO_ENGINE_HINT}`);
        this.store.event(vm, NO_ENGINE_EVENT, NO_ENGINE_HINT);
        return;
      }
      const runner = manifest.runner ?? "docker-compose";
      if (runner !== "docker-compose") this.serial(vm, `[dstack-vmm-sim] runner ${runner}: run with ${this.rt.compose.join(" ")} here`);
      const p = this.project(vm);
      const guest = guestAddressOf(vm.id);
      const derived = deriveCompose({
        yaml: manifest.docker_compose_file ?? "",
        project: p.name,
        guestAddress: guest,
        guestRoot: root,
        labels: { [LABEL_OWNER]: this.owner, [LABEL_VM]: vm.id },
      });
      for (const n of derived.notes) this.serial(vm, `[dstack-vmm-sim] ${n}`);
      mkdirSync(p.dir, { recursive: true });
      writeFileSync(p.file, derived.yaml);
      this.serial(vm, `Starting containers with runner=${runner} (guest address ${guest}, project ${p.name})`);
      const since = Date.now();
      const logPath = this.store.logPath(vm.id, "serial");
      const logAt = statSync(logPath, { throwIfNoEntry: false })?.size ?? 0;
      const code = await composeUp(p, env, logPath);
      if (code !== 0) {
        this.detach(vm.id);
        await this.halt(vm, "kill");
        throw new Error(composeFailure(readFrom(logPath, logAt), code, await missingImages(this.rt, derived.images)));
      }
      if (!live()) {
        this.detach(vm.id);
        await this.halt(vm, "kill");
        return;
      }
      try {
        running.forwards = await openForwards(vm.config.ports, guest);
      } catch (e) {
        this.detach(vm.id);
        await this.halt(vm, "kill");
        throw e;
      }
      const containers = await containersWith(this.rt, `${LABEL_VM}=${vm.id}`);
      running.logs = followContainers(this.rt, containers, p.name, since, (l) => this.serial(vm, l));
    });
  }

  private async halt(vm: VmRecord, how: "kill" | "stop"): Promise<void> {
    const err = await haltAllWith(this.rt, `${LABEL_VM}=${vm.id}`, how).catch((e: Error) => e.message);
    if (err) this.serial(vm, `[dstack-vmm-sim] ${how} of the containers failed: ${err}`);
  }

  /** Close what serves the VM on the host (port forwards, log followers, the guest agent); the containers stay. */
  private detach(id: string): void {
    const r = this.running.get(id);
    if (!r) return;
    for (const f of r.forwards) f.close();
    r.logs?.close();
    void r.agent?.close();
    this.running.delete(id);
  }

  /** StopVm (kill: a hard power-off) or ShutdownVm (stop: the guest shuts down). */
  stop(vm: VmRecord, how: "kill" | "stop"): Promise<void> {
    this.detach(vm.id);
    if (!this.enabled) return Promise.resolve();
    return this.queue(vm.id, async () => {
      this.detach(vm.id); // a start that was in flight has finished now
      await this.halt(vm, how);
    });
  }

  /** RemoveVm: the project's containers, networks and volumes, then anything else labelled with the VM. */
  remove(vm: VmRecord): Promise<void> {
    this.detach(vm.id);
    if (!this.enabled) return Promise.resolve();
    return this.queue(vm.id, async () => {
      this.detach(vm.id);
      const problems = await removeAllWith(this.rt, `${LABEL_VM}=${vm.id}`).catch((e: Error) => [e.message]);
      for (const m of problems) this.serial(vm, `[dstack-vmm-sim] removing the app: ${m}`);
    });
  }

  /**
   * At start: what this simulator created for VMs it no longer has (their dirs removed while it
   * was down) is removed from the engine, so nothing of ours outlives its VM.
   */
  async sweepOrphans(known: Set<string>): Promise<void> {
    if (!this.enabled) return;
    try {
      const ours = await containersWith(this.rt, `${LABEL_OWNER}=${this.owner}`, LABEL_VM);
      for (const vm of new Set(ours.map((c) => c.label).filter((v) => v && !known.has(v))))
        await removeAllWith(this.rt, `${LABEL_VM}=${vm}`);
    } catch {
      /* the engine does not answer now: the VMs' own operations will say so */
    }
  }

  /** The simulator is stopping: close forwards and followers, leave the containers running. */
  async detachAll(): Promise<void> {
    for (const id of [...this.running.keys()]) this.detach(id);
    await Promise.all([...this.chains.values()]);
  }
}
