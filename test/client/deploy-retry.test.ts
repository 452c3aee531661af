/**
 * Two deploys racing for the same auto host port: the VMM refuses the second
 * CreateVm with a port conflict; deploy picks another port and tries again,
 * but never retries a conflict on a port the user fixed.
 */
import { describe, expect, test } from "bun:test";
import { fileAllowlist } from "../../src/client/allowlist/allowlist-access.ts";
import { buildManifest, type DeployRequest, deploy, waitBoot } from "../../src/client/deploy/deploy.ts";
import { parsePortSpecs } from "../../src/core/specs/ports.ts";
import type { VmmClient } from "../../src/core/vmm/client.ts";
import type { VmConfiguration as CreateVmRequest } from "../../src/core/vmm/types.ts";

function fakeVmm(refusals: number) {
  const creates: CreateVmRequest[] = [];
  const client = {
    status: async () => ({ vms: [] }),
    createVm: async (req: CreateVmRequest) => {
      creates.push(req);
      if (creates.length <= refusals) {
        const p = req.ports.find((x) => x.vm_port === 80) ?? req.ports[0]!;
        throw new Error(
          `VMM at unix:/x refused CreateVm: host port mapping conflicts with VM abc: ${p.protocol} ${p.host_address}:${p.host_port}`,
        );
      }
      return { id: "11111111-2222-3333-4444-555555555555" };
    },
    startVm: async () => {},
  } as unknown as VmmClient;
  return { client, creates };
}

function request(ports: string[]): DeployRequest {
  return {
    name: "web",
    dockerCompose: "services: {}\n",
    image: "dstack-0.5.0",
    vcpu: 1,
    memoryMiB: 1024,
    diskGiB: 10,
    ports: parsePortSpecs(ports),
    env: [],
    kms: false,
    gpus: null,
    allowlist: fileAllowlist("/nonexistent"),
    localVmm: false,
  };
}

describe("deploy: auto host port taken between Status and CreateVm", () => {
  test("an auto port that clashes is picked again; the VM gets the new port", async () => {
    const { client, creates } = fakeVmm(2);
    const r = request(["80"]);
    const notes: string[] = [];
    const res = await deploy(client, r, buildManifest(r), (m) => notes.push(m));
    expect(creates).toHaveLength(3);
    const picked = creates.map((c) => c.ports[0]!.host_port);
    expect(new Set(picked).size).toBe(3);
    expect(res.ports[0]!.host_port).toBe(picked[2]!);
    expect(notes.filter((n) => n.includes("taken meanwhile"))).toHaveLength(2);
  });

  test("a clash on a fixed host port is reported at once, not retried", async () => {
    const { client, creates } = fakeVmm(1);
    const r = request(["8080:80", "443"]);
    await expect(deploy(client, r, buildManifest(r), () => {})).rejects.toThrow(/conflicts with VM abc: tcp 127\.0\.0\.1:8080/);
    expect(creates).toHaveLength(1);
  });

  test("it gives up after five attempts with the VMM's message", async () => {
    const { client, creates } = fakeVmm(100);
    const r = request(["80"]);
    await expect(deploy(client, r, buildManifest(r), () => {})).rejects.toThrow(/host port mapping conflicts/);
    expect(creates).toHaveLength(5);
  });
});

describe("waitBoot", () => {
  test("a boot slower than the timeout is reported as timed out with the last status seen, not as a failure", async () => {
    const client = {
      status: async () => ({
        vms: [{ id: "v1", status: "running", boot_progress: "initializing data disk", boot_error: "", instance_id: null }],
      }),
    } as unknown as VmmClient;
    const b = await waitBoot(client, "v1", 150, () => {});
    expect(b).toMatchObject({ ok: false, timedOut: true, reason: "last seen: running (initializing data disk)" });
  });
});
