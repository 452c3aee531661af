/**
 * `dstack system dial-stdio`, the host's side of an ssh:// endpoint (docker's
 * `system dial-stdio`): HTTP on stdin/stdout, served here with what belongs to this host — the
 * VMM's endpoint and token from the install state (the caller never sees the token), and the
 * `Dstack.*` calls that must run on the host: its facts (guest image, port policy, allowlist
 * path, our version) and the allowlist registration and withdrawal under this host's lock.
 * Every other request goes on to the VMM with the token put in.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Env } from "../../core/io.ts";
import { transportFor } from "../../core/vmm/client.ts";
import type { WithdrawScope } from "../allowlist/registration.ts";
import { connectEndpoint, resolveEndpoint } from "./endpoint.ts";
import { answer } from "./host-call.ts";

/** What `Dstack.HostInfo` answers: the facts a client would otherwise read from this host's files. */
export interface HostInfo {
  version: string;
  image: string | null;
  allowlistPath: string;
  portPolicy: import("../../core/specs/ports.ts").PortPolicy | null;
  portPolicyProblem: string | null;
  /** The KMS signer recorded at install (kms_signer), which env keys must carry. */
  kmsSigner: string | null;
}

export interface DialStdio {
  prefix: string | undefined;
  env: Env;
  version: string;
  stdin: ReadableStream<Uint8Array>;
  write: (b: Uint8Array) => void;
}

const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

export async function dialStdio(o: DialStdio): Promise<void> {
  const ep = resolveEndpoint({ prefix: o.prefix }, o.env, { installOnly: true });
  const vmm = await connectEndpoint(ep, {}, undefined, undefined, o.env);
  const t = await transportFor({ host: ep.host });
  const info: HostInfo = {
    version: o.version,
    image: ep.image ?? null,
    allowlistPath: ep.allowlistPath,
    portPolicy: ep.portPolicy ?? null,
    portPolicyProblem: ep.portPolicyProblem ?? ep.tokenProblem ?? null,
    kmsSigner: ep.kmsSigner ?? null,
  };
  const al = ep.allowlist;
  const own: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    "Dstack.HostInfo": async () => info,
    "Dstack.ReadAllowlist": () => al.read(),
    "Dstack.RegisterApp": (b) => al.register(String(b.appId), String(b.hash), { requireApp: b.requireApp === true }),
    "Dstack.RevokeApp": (b) => al.revoke(String(b.appId), typeof b.hash === "string" ? b.hash : undefined),
    "Dstack.WithdrawUnused": async (b) => ({ withdrawn: await al.withdrawUnused(vmm, b as WithdrawScope) }),
  };
  const dir = mkdtempSync(join(tmpdir(), "dstack-dial-"));
  const sock = join(dir, "http.sock");
  const server = Bun.serve({
    unix: sock,
    async fetch(req) {
      const url = new URL(req.url);
      const method = url.pathname.startsWith("/prpc/") ? url.pathname.slice(6) : "";
      const handler = own[method];
      try {
        if (handler) {
          const text = await req.text();
          return json(await answer(() => handler(text.trim() ? JSON.parse(text) : {})));
        }
        const headers: Record<string, string> = { "content-type": req.headers.get("content-type") ?? "application/json" };
        if (ep.token) headers.authorization = `Bearer ${ep.token}`;
        const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
        return await t.fetch(url.pathname + url.search, { method: req.method, headers, ...(body ? { body } : {}) });
      } catch (e) {
        return json({ error: (e as Error).message }, 400);
      }
    },
  });
  try {
    await new Promise<void>((resolve) => {
      const s = connect(sock);
      s.on("data", (d: Buffer) => o.write(d));
      s.on("close", () => resolve());
      s.on("error", () => resolve());
      s.on("connect", async () => {
        for await (const chunk of o.stdin) if (!s.write(chunk)) await new Promise((r) => s.once("drain", r));
        s.end();
      });
    });
  } finally {
    server.stop(true);
    vmm.close();
    t.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
