/** Flags of `dstackup install` (and the subset `doctor` shares). */
import type { ArgsDef } from "../../core/argv.ts";
import { DEFAULT_KMS_IMAGE } from "../../core/compose/kms-compose.ts";
import { UsageError } from "../../core/errors.ts";
import type { Env } from "../../core/io.ts";
import { knobs } from "../../core/knobs.ts";
import { DEFAULT_PORT_POLICY, inRanges } from "../../core/specs/ports.ts";
import { RUNTIME_CHOICES, type RuntimeChoice } from "../../core/specs/sim-runtime.ts";
import type { InstallFlags } from "../../host/install/plan.ts";

export const installArgs = {
  simulate: { type: "boolean", description: "Use the VMM simulator (dstack-vmm-sim): no TDX/SGX/KVM needed, works unprivileged" },
  runtime: {
    type: "string",
    description:
      "--simulate: the container engine that runs the apps: auto (the first that answers: docker, then podman) | docker | podman | none",
    valueHint: "ENGINE",
  },
  prefix: {
    type: "string",
    description: "Install root (default: /usr/local, /etc/dstack, /var/lib/dstack, /run/dstack)",
    valueHint: "DIR",
  },
  instance: { type: "string", description: "systemd unit suffix (default: derived from --prefix)" },
  "bin-dir": { type: "string", description: "Override <prefix>/bin" },
  "libexec-dir": { type: "string", description: "Override <prefix>/libexec/dstack" },
  "share-dir": { type: "string", description: "Override <prefix>/share/dstack" },
  image: { type: "string", description: "Guest image name under the image dir (default: the newest with digest.txt)" },
  "image-path": { type: "string", description: "Image directory (default <state>/images)" },
  platform: { type: "string", default: "auto", description: "auto | tdx | amd-sev-snp" },
  "vmm-bin": { type: "string", description: "dstack-vmm binary (default <libexec>/dstack-vmm)" },
  "supervisor-bin": { type: "string", description: "supervisor binary (default <libexec>/supervisor)" },
  qemu: { type: "string", default: "/usr/bin/qemu-system-x86_64", description: "QEMU binary" },
  "dashboard-port": { type: "string", default: "9080", description: "VMM API/dashboard port on 127.0.0.1" },
  "auth-port": { type: "string", default: "8001", description: "Auth webhook port on 127.0.0.1" },
  "host-api-port": { type: "string", default: "10000", description: "VMM host-api vsock port" },
  "cid-start": { type: "string", description: "First guest CID (default: a free block of 1000)" },
  "kms-port": { type: "string", description: "KMS port on 127.0.0.1 (default: reuse, else a free port ≤ 20000)" },
  "kms-image": { type: "string", default: DEFAULT_KMS_IMAGE, description: "KMS container image" },
  "no-kms": { type: "boolean", description: "Do not deploy the KMS CVM (apps then run without KMS keys)" },
  "allow-unpinned-image": { type: "boolean", description: "Allow a guest image without digest.txt (apps' OS image unchecked)" },
  "use-existing-key-provider": { type: "string", description: "TDX: use the key provider at ADDR:PORT", valueHint: "ADDR:PORT" },
  "key-provider-port": { type: "string", default: "3443", description: "TDX: port of our own key provider" },
  "key-provider-src": { type: "string", description: "TDX: directory with the key provider's docker-compose.yaml" },
  "service-manager": {
    type: "string",
    default: "auto",
    description: "auto | systemd | detached (detached: pidfiles under the run dir; --simulate only)",
  },
  "ignore-preflight-errors": { type: "string", description: "Comma-separated checks to demote to warnings, or all", valueHint: "NAMES" },
  "build-from-source": { type: "boolean", description: "Build dstack-vmm and supervisor with cargo (as the sudo user) into libexec" },
  source: {
    type: "string",
    description: "--build-from-source: a dstack checkout to build (default: clone into the cache)",
    valueHint: "DIR",
  },
  "source-repo": {
    type: "string",
    default: "https://github.com/Dstack-TEE/dstack",
    description: "--build-from-source: repository to clone",
  },
  "source-ref": { type: "string", default: "next", description: "--build-from-source: branch, tag or commit" },
  bundle: { type: "string", description: "Install the binaries, guest image and key provider from an offline bundle", valueHint: "FILE" },
  "trusted-key": {
    type: "string",
    description: "--bundle: the key it must be signed with (a public key or a .pub file; default: the dstack release key)",
    valueHint: "KEY",
  },
  "require-signature": { type: "boolean", description: "--bundle: refuse it when its signature cannot be checked (no ssh-keygen)" },
  expose: { type: "string", description: "Refused: the control plane stays on 127.0.0.1 (use an SSH tunnel)", valueHint: "IP" },
} as const satisfies ArgsDef;

function port(flag: string, v: unknown): number {
  const n = Number(v);
  if (!/^\d+$/.test(String(v)) || n < 1 || n > 65535)
    throw new UsageError(`${flag} must be between 1 and 65535 (got ${JSON.stringify(v)})`);
  return n;
}

function uint(flag: string, v: unknown, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(String(v)) || n < min || n > max)
    throw new UsageError(`${flag} must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`);
  return n;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The KMS CVM's port is mapped through the VMM's [cvm.port_mapping]: it must lie inside its range. */
function kmsPort(v: unknown): number {
  const p = port("--kms-port", v);
  if (!inRanges("tcp", p, DEFAULT_PORT_POLICY.ranges)) {
    const r = DEFAULT_PORT_POLICY.ranges.map((x) => `${x.protocol} ${x.from}-${x.to}`).join(", ");
    throw new UsageError(
      `--kms-port ${p} is outside the VMM's port-mapping range (${r}): the KMS CVM's port is mapped through it; pick a port in that range`,
    );
  }
  return p;
}

export function installFlagsFrom(a: Record<string, unknown>): InstallFlags {
  if (a.expose !== undefined) {
    const dp = str(a["dashboard-port"]) ?? "9080";
    throw new UsageError(
      `--expose ${a.expose} is not yet safe: it would bind the VM-control plane on ${a.expose}:${dp} over plain HTTP, leaking the API token in cleartext. reach the dashboard over an SSH tunnel instead: ssh -L ${dp}:127.0.0.1:${dp} <host>`,
    );
  }
  const runtime = str(a.runtime);
  if (runtime !== undefined && !(RUNTIME_CHOICES as readonly string[]).includes(runtime))
    throw new UsageError(`--runtime must be ${RUNTIME_CHOICES.join(", ")} (got ${runtime})`);
  if (runtime !== undefined && a.simulate !== true)
    throw new UsageError("--runtime is for --simulate: on a real host the CVMs run their own container engine");
  const sm = String(a["service-manager"] ?? "auto");
  if (!["auto", "systemd", "detached"].includes(sm))
    throw new UsageError(`--service-manager must be auto, systemd or detached (got ${sm})`);
  return {
    prefix: str(a.prefix),
    instance: str(a.instance),
    binDir: str(a["bin-dir"]),
    libexecDir: str(a["libexec-dir"]),
    shareDir: str(a["share-dir"]),
    imagePath: str(a["image-path"]),
    image: str(a.image),
    platform: String(a.platform ?? "auto"),
    simulate: a.simulate === true,
    runtime: (runtime ?? "auto") as RuntimeChoice,
    vmmBin: str(a["vmm-bin"]),
    supervisorBin: str(a["supervisor-bin"]),
    qemu: String(a.qemu ?? "/usr/bin/qemu-system-x86_64"),
    dashboardPort: port("--dashboard-port", a["dashboard-port"] ?? 9080),
    authPort: port("--auth-port", a["auth-port"] ?? 8001),
    hostApiPort: uint("--host-api-port", a["host-api-port"] ?? 10000, 1, 0xffffffff),
    cidStart: a["cid-start"] === undefined ? undefined : uint("--cid-start", a["cid-start"], 3, 0xffffffff - 1000),
    kmsPort: a["kms-port"] === undefined ? undefined : kmsPort(a["kms-port"]),
    kmsImage: String(a["kms-image"] ?? DEFAULT_KMS_IMAGE),
    noKms: a["no-kms"] === true,
    allowUnpinnedImage: a["allow-unpinned-image"] === true,
    useExistingKeyProvider: str(a["use-existing-key-provider"]),
    keyProviderPort: port("--key-provider-port", a["key-provider-port"] ?? 3443),
    keyProviderSrc: str(a["key-provider-src"]),
    serviceManager: sm as InstallFlags["serviceManager"],
    ignorePreflightErrors: str(a["ignore-preflight-errors"]),
    bundle: str(a.bundle),
    trustedKey: str(a["trusted-key"]),
    requireSignature: a["require-signature"] === true,
    buildFromSource:
      a["build-from-source"] === true
        ? {
            source: str(a.source),
            repo: String(a["source-repo"] ?? "https://github.com/Dstack-TEE/dstack"),
            ref: String(a["source-ref"] ?? "next"),
          }
        : undefined,
    devRoot: knobs().devRoot,
    cpuinfo: knobs().cpuinfo,
  };
}

/** --simulate: probe the container engine --runtime names (auto: the first that answers), for the runtime check and vmm.toml. */
export async function probeRuntime(flags: InstallFlags, env: Env): Promise<InstallFlags> {
  if (!flags.simulate) return flags;
  const { detectRuntime } = await import("../../sim/runtime/engine.ts");
  return { ...flags, detectedRuntime: await detectRuntime(flags.runtime ?? "auto", env) };
}
