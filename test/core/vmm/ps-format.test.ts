import { describe, expect, test } from "bun:test";
import { buildAppCompose } from "../../../src/core/compose/app-compose.ts";
import { composeFromImage } from "../../../src/core/compose/image-compose.ts";
import { formatPs, imageOf, portsText, statusText } from "../../../src/core/vmm/ps-format.ts";
import type { VmInfo } from "../../../src/core/vmm/types.ts";

function vm(
  o: Partial<VmInfo> & {
    image?: string;
    dockerImage?: string;
    ports?: VmInfo["configuration"] extends infer C ? (C extends { ports: infer P } ? P : never) : never;
  },
): VmInfo {
  const compose = o.dockerImage
    ? buildAppCompose({
        name: o.name ?? "x",
        dockerCompose: composeFromImage({ image: o.dockerImage, ports: [], env: [] }),
        kms: true,
        allowedEnvs: [],
      }).composeFile
    : "";
  return {
    id: "0123456789abcdef-0000-4000-8000-000000000000",
    name: "web",
    status: "running",
    uptime: "5m",
    app_url: null,
    app_id: "92e49f6c0123456789abcdef0123456789abcdef",
    instance_id: "i1",
    exited_at: null,
    boot_progress: "done",
    boot_error: "",
    shutdown_progress: "",
    image_version: "0.5.5",
    events: [],
    interfaces: [],
    ...o,
    configuration: { image: o.image ?? "dstack-0.5.5", compose_file: compose, ports: o.ports ?? [] } as unknown as VmInfo["configuration"],
  };
}

describe("statusText", () => {
  test("boot progress shows while booting; a boot error wins; done is plain", () => {
    expect(statusText(vm({ boot_progress: "requesting app keys" }))).toBe("running (requesting app keys)");
    expect(statusText(vm({}))).toBe("running");
    expect(statusText(vm({ status: "exited", boot_error: "Boot denied: compose hash not allowed" }))).toBe("exited (boot failed)");
    expect(statusText(vm({ status: "stopped", boot_progress: "" }))).toBe("stopped");
  });
});

describe("portsText", () => {
  test("docker-style host:port->vm/proto, IPv6 in brackets", () => {
    expect(
      portsText(
        vm({
          ports: [
            { protocol: "tcp", host_address: "127.0.0.1", host_port: 8080, vm_port: 80 },
            { protocol: "udp", host_address: "::1", host_port: 53, vm_port: 5353 },
          ],
        }),
      ),
    ).toBe("127.0.0.1:8080->80/tcp, [::1]:53->5353/udp");
  });
});

describe("imageOf", () => {
  test("the container image from the manifest, else the guest image", () => {
    expect(imageOf(vm({ dockerImage: "ghcr.io/org/app:1.2" }))).toBe("ghcr.io/org/app:1.2");
    expect(imageOf(vm({ image: "dstack-0.5.5" }))).toBe("dstack-0.5.5");
    const two = buildAppCompose({
      name: "x",
      dockerCompose: "services:\n  a:\n    image: nginx # web\n  b:\n    image: 'redis:7'\n",
      kms: true,
      allowedEnvs: [],
    }).composeFile;
    expect(imageOf({ ...vm({}), configuration: { ...vm({}).configuration!, compose_file: two } })).toBe("nginx,redis:7");
  });
});

describe("formatPs", () => {
  test("header, short ids, uptime only while running", () => {
    const t = formatPs([
      vm({ dockerImage: "nginx:1.27", ports: [{ protocol: "tcp", host_address: "127.0.0.1", host_port: 8080, vm_port: 80 }] }),
      vm({ name: "old", status: "stopped", uptime: "9m" }),
    ]);
    const lines = t.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+ID\s+APP ID\s+STATUS\s+PORTS\s+UPTIME\s+IMAGE$/);
    expect(lines[1]).toMatch(/^web\s+01234567\s+92e49f6c0123\s+running\s+127\.0\.0\.1:8080->80\/tcp\s+5m\s+nginx:1\.27$/);
    expect(lines[2]).toMatch(/^old\s+01234567\s+92e49f6c0123\s+stopped\s+-\s+dstack-0\.5\.5$/);
  });
  test("control characters from remote data never reach the terminal", () => {
    expect(formatPs([vm({ name: "evil\x1b[2Jname" })])).not.toContain("\x1b");
  });
  test("a terminal's table cuts long names, statuses and images with … (digests dropped); ids stay short", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const long = vm({ name: "n".repeat(300), dockerImage: `ghcr.io/org/a-long-image-name-here/app:1.2@${digest}` });
    const status = () => `exited (${"x".repeat(40)})`;
    const pinned = vm({ name: "web", dockerImage: `nginx:1.27@${digest}` });
    const [, row, short] = formatPs([long, pinned], status, { trunc: true }).trimEnd().split("\n");
    expect(row).toStartWith(`${"n".repeat(29)}…   01234567   92e49f6c0123   exited (xxxxxxxxxxxxxxxxxxxxx…   `);
    expect(row).toEndWith("   ghcr.io/org/a-long-image-name-here/app:…");
    expect(row!.length).toBe(30 + 8 + 12 + 30 + "PORTS".length + "UPTIME".length + 40 + 6 * 3); // bounded whatever the data
    expect(short).toEndWith("   nginx:1.27");
  });
  test("untruncated (not a terminal, or --no-trunc): every cell whole; fullIds: whole VM and app ids", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const long = vm({ name: "n".repeat(300), dockerImage: `nginx@${digest}` });
    const [, row] = formatPs([long]).trimEnd().split("\n");
    expect(row).toStartWith(`${"n".repeat(300)}   01234567   92e49f6c0123   running`);
    expect(row).toEndWith(`   nginx@${digest}`);
    const [, whole] = formatPs([long], undefined, { fullIds: true }).trimEnd().split("\n");
    expect(whole).toContain("   0123456789abcdef-0000-4000-8000-000000000000   92e49f6c0123456789abcdef0123456789abcdef   ");
  });
});
