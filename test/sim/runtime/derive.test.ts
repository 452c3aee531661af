/** The derived compose: ports rebound to the guest address, guest paths under the guest root, labels, names. */
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { rebindPort } from "../../../src/sim/runtime/compose-ports.ts";
import { deriveCompose } from "../../../src/sim/runtime/derive.ts";
import { guestAddressOf } from "../../../src/sim/runtime/guest-address.ts";
import { guestPath, hostPathOf } from "../../../src/sim/runtime/guest-fs.ts";

const G = "127.9.8.7";
const ROOT = "/state/vm/ID/guest";
const LABELS = { "io.dstack-sim.owner": "o", "io.dstack-sim.vm": "ID" };

describe("published ports bind to the guest address", () => {
  test.each([
    [80, `${G}::80`],
    ["80", `${G}::80`],
    ["8080:80", `${G}:8080:80`],
    ["0.0.0.0:8080:80/udp", `${G}:8080:80/udp`],
    ["[::1]:8080:80", `${G}:8080:80`],
    ["${PORT:-8080}:80", `${G}:\${PORT:-8080}:80`],
    ["8000-8010:8000-8010/tcp", `${G}:8000-8010:8000-8010/tcp`],
  ])("%p → %p", (entry, want) => {
    expect(rebindPort(entry, G)).toBe(want);
  });

  test("long syntax keeps its fields and gets host_ip", () => {
    expect(rebindPort({ target: 80, published: 8080, host_ip: "0.0.0.0", protocol: "udp" }, G)).toEqual({
      target: 80,
      published: 8080,
      host_ip: G,
      protocol: "udp",
    });
  });
});

describe("guest paths", () => {
  test("relative to /dstack, ~ is /root, /var/run is /run, nothing escapes the root", () => {
    expect(guestPath("./data")).toBe("/dstack/data");
    expect(guestPath("~/.cache")).toBe("/root/.cache");
    expect(guestPath("/var/run/dstack.sock")).toBe("/run/dstack.sock");
    expect(guestPath("../../../../etc")).toBe("/etc");
    expect(hostPathOf(ROOT, "/")).toBe(ROOT);
    expect(hostPathOf(ROOT, "/../../etc/passwd")).toBe(`${ROOT}/etc/passwd`);
    expect(hostPathOf(ROOT, "/var/run/docker.sock")).toBe(`${ROOT}/run/docker.sock`);
  });

  test("the guest address is a loopback address of the VM, stable, never 127.0.x.x", () => {
    const a = guestAddressOf("vm-1");
    expect(a).toBe(guestAddressOf("vm-1"));
    expect(a).not.toBe(guestAddressOf("vm-2"));
    for (let i = 0; i < 200; i++) expect(guestAddressOf(`vm-${i}`)).toMatch(/^127\.(?!0\.)\d+\.\d+\.\d+$/);
  });
});

describe("deriveCompose", () => {
  const user = `name: mine
x-common: &common
  restart: always
services:
  web:
    <<: *common
    image: nginx
    container_name: front
    ports: ["8080:80"]
    env_file: ./app.env
    environment:
      SECRET: \${SECRET}
    volumes:
      - /:/host
      - /var/run/dstack.sock:/var/run/dstack.sock
      - /var/run/docker.sock:/var/run/docker.sock
      - ./data:/data:ro
      - named:/named
      - type: bind
        source: /etc/hosts
        target: /h
    labels: ["a=b"]
  db:
    image: postgres
    network_mode: host
volumes:
  named: {}
  ext:
    external: true
networks:
  back:
    driver: bridge
secrets:
  s:
    file: ./s.txt
`;
  const d = deriveCompose({ yaml: user, project: "dsim-x", guestAddress: G, guestRoot: ROOT, labels: LABELS });
  const out = parse(d.yaml);

  test("ports, mounts, env_file and secrets point into the guest; variables are left to compose", () => {
    const web = out.services.web;
    expect(web.ports).toEqual([`${G}:8080:80`]);
    expect(web.volumes).toEqual([
      `${ROOT}:/host`,
      `${ROOT}/run/dstack.sock:/var/run/dstack.sock`,
      `${ROOT}/run/docker.sock:/var/run/docker.sock`,
      `${ROOT}/dstack/data:/data:ro`,
      "named:/named",
      { type: "bind", source: `${ROOT}/etc/hosts`, target: "/h" },
    ]);
    expect(web.env_file).toBe(`${ROOT}/dstack/app.env`);
    expect(web.environment).toEqual({ SECRET: "${SECRET}" });
    expect(web.restart).toBe("always");
    expect(out.secrets.s.file).toBe(`${ROOT}/dstack/s.txt`);
  });

  test("labels on containers, networks (default included) and own volumes; names scoped to the project", () => {
    expect(out.name).toBeUndefined();
    expect(out.services.web.labels).toEqual(["a=b", "io.dstack-sim.owner=o", "io.dstack-sim.vm=ID"]);
    expect(out.services.db.labels).toEqual(LABELS);
    expect(out.services.web.container_name).toBe("dsim-x-front");
    expect(out.networks).toEqual({ back: { driver: "bridge", labels: LABELS }, default: { labels: LABELS } });
    expect(out.volumes).toEqual({ named: { labels: LABELS }, ext: { external: true } });
    expect(d.notes).toEqual(["service db: network_mode host shares the simulator host's network (a CVM would share its own)"]);
  });

  test("a compose without services is refused", () => {
    expect(() => deriveCompose({ yaml: "version: '3'\n", project: "p", guestAddress: G, guestRoot: ROOT, labels: LABELS })).toThrow(
      "no services",
    );
  });
});

describe("the derived file reads the same under YAML 1.1 (docker-compose v1 is PyYAML)", () => {
  test('strings that YAML 1.1 would read as booleans or numbers stay quoted: restart "no", "on", "0755", "1:20"', () => {
    const user =
      'services:\n  app:\n    image: x\n    restart: "no"\n    environment:\n      A: "on"\n      B: "0755"\n      C: "1:20"\n    command: ["echo", "yes"]\n';
    const { yaml } = deriveCompose({ yaml: user, project: "p", guestAddress: G, guestRoot: ROOT, labels: LABELS });
    const app = (parse(yaml, { version: "1.1" }) as { services: { app: Record<string, unknown> } }).services.app;
    expect(app.restart).toBe("no");
    expect(app.environment).toEqual({ A: "on", B: "0755", C: "1:20" });
    expect(app.command).toEqual(["echo", "yes"]);
  });
});
