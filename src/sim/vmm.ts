/**
 * The simulated VMM's state machine (Dstack-TEE/dstack: dstack/vmm/src/app.rs,
 * main_service.rs, app/vm_info.rs): create, start, stop, shutdown, remove and update VMs, with the status
 * model of `started` × `running`, and one dispatch of the RPC methods by name.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appIdOf, composeHashOf } from "../core/compose/app-compose.ts";
import { parseAppCompose } from "../core/compose/app-compose-parse.ts";
import { versionAtLeast } from "../core/images/image-version.ts";
import { signEnvKey } from "../core/keys/env-key-signature.ts";
import type { UpdateVmRequest, VmConfiguration } from "../core/vmm/types.ts";
import { defaultVmConfiguration } from "../core/vmm/types.ts";
import { imageVersion, readImage } from "../host/images/images.ts";
import { adoptVm, bootVm, envKeyFor } from "./boot.ts";
import type { SimConfig } from "./config.ts";
import { kmsRootKeys, loadOrCreateKeyRoot } from "./guest-agent/attestation/key-root.ts";
import { AppRuntime } from "./runtime/app-runtime.ts";
import { statusOf, type VmRecord, VmStore, vmInfo } from "./store.ts";
import { checkComposeFile, checkComposeJson, checkGpus, checkImageName, checkName, checkPorts, freeCid } from "./validate.ts";
import { SIM_VERSION } from "./version.ts";
import { imagesView, metaView, statusView } from "./views.ts";
import { decodeMessage, type MessageSchema, type Obj, RpcError } from "./wire.ts";

const PORT_MAPPING: MessageSchema = { protocol: "string", host_port: "u32", vm_port: "u32", host_address: "string" };
const NETWORKING: MessageSchema = { mode: "string", bridge_name: "string" };

/** VmConfiguration of vmm_rpc.proto, as CreateVm decodes it. */
const VM_CONFIGURATION: MessageSchema = {
  name: "string",
  image: "string",
  compose_file: "string",
  vcpu: "u32",
  memory: "u32",
  disk_size: "u32",
  ports: [PORT_MAPPING],
  encrypted_env: "string", // bytes, as hex
  app_id: { optional: "string" },
  user_config: "string",
  hugepages: "bool",
  pin_numa: "bool",
  gpus: { gpus: [{ slot: "string" }], attach_mode: "string" },
  kms_urls: ["string"],
  gateway_urls: ["string"],
  stopped: "bool",
  no_tee: "bool",
  networking: NETWORKING,
  networks: [NETWORKING],
  simulated_tee: { optional: "string" },
};

export class Simulator {
  readonly store: VmStore;
  readonly seed: Uint8Array;
  /** the simulated KMS root's secp256k1 key (.sim-kms-root, shared with the guest agents): it signs env keys */
  readonly kmsSigningKey: Uint8Array;
  readonly apps: AppRuntime;
  private boots = new Set<Promise<void>>();

  constructor(readonly cfg: SimConfig) {
    this.store = new VmStore(cfg.runPath, cfg.eventBufferSize);
    const seedPath = join(cfg.runPath, ".sim-kms-seed");
    if (!existsSync(seedPath)) {
      mkdirSync(cfg.runPath, { recursive: true });
      writeFileSync(seedPath, randomBytes(32), { mode: 0o600 });
    }
    this.seed = new Uint8Array(readFileSync(seedPath));
    this.kmsSigningKey = kmsRootKeys(loadOrCreateKeyRoot(join(cfg.runPath, ".sim-kms-root"))).k256;
    this.store.load();
    this.apps = new AppRuntime(cfg.runtime, this.store);
    this.track(this.apps.sweepOrphans(new Set(this.store.vms.keys())));
    for (const vm of this.store.vms.values()) {
      if (!vm.running) continue;
      if (vm.bootProgress === "running") this.track(adoptVm(this.cfg, this.store, vm, this.seed, this.apps, "simulator restarted"));
      else {
        // The simulated guest died with the simulator mid-boot; a real CVM's boot goes on under its
        // supervisor across a VMM restart, so this one boots again rather than stay half-booted.
        this.store.log(vm.id, "serial", "[dstack-vmm-sim] the simulator restarted during this VM's boot: booting again");
        this.startBoot(vm);
      }
    }
  }

  private track(p: Promise<void>): void {
    this.boots.add(p);
    void p.finally(() => this.boots.delete(p));
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
    this.track(
      bootVm(this.cfg, this.store, vm, this.seed, this.apps).catch((e) => {
        vm.bootError = `Boot failed: ${(e as Error).message}`;
        this.store.log(vm.id, "serial", vm.bootError);
        vm.running = false;
      }),
    );
  }

  /** The process ends: a hard power-off (StopVm), or the end of a guest shutdown. */
  private stop(vm: VmRecord, how: "kill" | "none" = "kill"): void {
    if (vm.running && how === "kill") this.track(this.apps.stop(vm, "kill"));
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

  createVm(body: Obj): { id: string } {
    const cfg: VmConfiguration = { ...defaultVmConfiguration(), ...(decodeMessage(body, VM_CONFIGURATION) as Partial<VmConfiguration>) };
    checkName(cfg.name);
    const ports = checkPorts(this.cfg, cfg.ports, this.store.vms.values(), undefined, true);
    checkGpus(cfg.gpus);
    if (!/^[0-9a-fA-Fx]*$/.test(cfg.encrypted_env)) throw new RpcError("invalid hex in field `encrypted_env`");
    checkComposeJson(cfg.compose_file);
    const appId = cfg.app_id ? cfg.app_id.replace(/^(0x)+/i, "").toLowerCase() : appIdOf(composeHashOf(cfg.compose_file));
    // load_vm: image, compose, CID
    checkImageName(cfg.image);
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
    const cid = freeCid(this.cfg, this.store.vms.values());
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
      checkComposeFile(req.compose_file);
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
    if (req.update_ports) vm.config = { ...vm.config, ports: checkPorts(this.cfg, req.ports ?? [], this.store.vms.values(), vm.id, false) };
    if (req.update_kms_urls) vm.config = { ...vm.config, kms_urls: req.kms_urls ?? [] };
    if (req.update_gateway_urls) vm.config = { ...vm.config, gateway_urls: req.gateway_urls ?? [] };
    this.store.persist(vm);
    return { id: out };
  }

  startVm(body: Obj): null {
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

  shutdownVm(body: Obj): null {
    const vm = this.get(body.id, "vm not found");
    vm.shutdownProgress = "powering off";
    this.store.event(vm, "shutdown.progress", "powering off");
    this.store.log(vm.id, "serial", "[dstack-vmm-sim] shutdown requested: powering off");
    if (!vm.running) {
      this.stop(vm);
      return null;
    }
    // As on the real VMM: the guest's "powering off" clears `started` while the
    // process still runs (status `stopping`); the process ends once the guest has
    // stopped its containers (compose stop: SIGTERM, then SIGKILL after 10 s).
    vm.started = false;
    this.store.persist(vm);
    const gen = ++vm.generation;
    this.track(
      Promise.all([Bun.sleep(this.cfg.bootStepMs * 3), this.apps.stop(vm, "stop")]).then(() => {
        if (vm.removing) return;
        if (vm.generation !== gen) {
          // started again while shutting down: the app comes back up
          if (vm.running && vm.started) return adoptVm(this.cfg, this.store, vm, this.seed, this.apps, "started again during its shutdown");
          return;
        }
        this.store.log(vm.id, "serial", "[dstack-vmm-sim] powered off");
        this.stop(vm, "none");
      }),
    );
    return null;
  }

  removeVm(body: Obj): null {
    const vm = this.get(body.id, "Failed to remove VM: VM not found");
    if (vm.removing) return null;
    this.store.markRemoving(vm);
    this.stop(vm);
    vm.removing = true;
    // as the VMM's background task: stop, delete, then the VM is gone
    this.track(
      Promise.all([this.apps.remove(vm), Bun.sleep(50)]).then(
        () => this.store.remove(vm.id),
        () => this.store.remove(vm.id),
      ),
    );
    return null;
  }

  composeHash(body: Obj): { hash: string } {
    const cfg = { ...defaultVmConfiguration(), ...(decodeMessage(body, VM_CONFIGURATION) as Partial<VmConfiguration>) };
    checkName(cfg.name);
    checkComposeFile(cfg.compose_file);
    return { hash: composeHashOf(cfg.compose_file) };
  }

  envPubKey(body: Obj) {
    const appId = String(body.app_id ?? "")
      .replace(/^(0x)+/i, "")
      .toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(appId)) throw new RpcError("app_id must be 20 bytes");
    // the real VMM asks only its top-level kms_url (dstack/vmm/src/app.rs kms_client); cvm.kms_urls are for the guests
    if (!this.cfg.kmsUrl) throw new RpcError("KMS is not configured");
    // signed by the simulated KMS root's k256 key, as the real KMS signs with its own (dstack/kms/src/main_service.rs)
    return signEnvKey(this.kmsSigningKey, appId, envKeyFor(this.seed, appId).publicKey, Math.floor(Date.now() / 1000));
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
      case "StartVm":
        return this.startVm(body);
      case "StopVm":
        this.stop(this.get(body.id, "Failed to stop VM: VM not found"));
        return null;
      case "ShutdownVm":
        return this.shutdownVm(body);
      case "RemoveVm":
        return this.removeVm(body);
      case "UpgradeApp":
      case "UpdateVm":
        return this.updateVm(body);
      case "Status":
        return statusView(this.cfg, this.store, body);
      case "GetInfo": {
        const vm = typeof body.id === "string" ? this.store.vms.get(body.id) : undefined;
        return vm ? { found: true, info: vmInfo(vm, false) } : { found: false, info: null };
      }
      case "ListImages":
        return imagesView(this.cfg);
      case "GetMeta":
        return metaView(this.cfg);
      case "Version":
        return SIM_VERSION;
      case "ListGpus":
        return { gpus: [], allow_attach_all: false };
      case "GetComposeHash":
        return this.composeHash(body);
      case "GetAppEnvEncryptPubKey":
        return this.envPubKey(body);
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
