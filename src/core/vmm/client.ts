/**
 * dstack-vmm prpc client (Dstack-TEE/dstack: dstack/vmm/rpc/proto/vmm_rpc.proto, dstack/ra-rpc/src/rocket_helper.rs).
 *
 *   const c = await connectVmm({ host, token, timeoutMs })
 *   host: unix:/path/vmm.sock | http(s)://host:port | ssh://user@host[:port][/remote/vmm.sock | ?target=tcp:127.0.0.1:9080]
 *   c.createVm(cfg) → {id}      c.startVm(id)   c.stopVm(id)   c.shutdownVm(id)   c.removeVm(id)
 *   c.upgradeApp(req) → {id}    c.updateVm(req) → {id}
 *   c.status({ids, keyword, page, page_size, brief}) → {vms, port_mapping_enabled, total}
 *   c.getInfo(id)  c.listImages()  c.getMeta()  c.version()  c.listGpus()  c.getComposeHash(cfg)
 *   c.getAppEnvEncryptPubKey(appId) → {public_key, …}
 *   c.logs(id, {follow, lines, ch}) → AsyncIterable<string>  (no timeout while following)
 *   c.call(method, body)  (any other method)      c.close()
 *
 * Transports: transport-unix.ts, transport-http.ts, transport-ssh.ts (ssh2, imported lazily).
 * Every call is `POST /prpc/<Method>?json` with a JSON body, `Authorization: Bearer <token>`
 * when a token is set, and a timeout (default 30 s). Failures are DstackErrors that name
 * the endpoint and the next step.
 */
import { DstackError, NotFoundError, UsageError } from "../errors.ts";
import type { ConnectOptions, Transport } from "./transport.ts";
import { httpTransport } from "./transport-http.ts";
import { unixTransport } from "./transport-unix.ts";
import type {
  GetInfoResponse,
  GetMetaResponse,
  ImageInfo,
  ListGpusResponse,
  LogChannel,
  PublicKeyResponse,
  StatusRequest,
  StatusResponse,
  UpdateVmRequest,
  VersionResponse,
  VmConfiguration,
} from "./types.ts";
import { defaultVmConfiguration } from "./types.ts";

export type { ConnectOptions, Transport } from "./transport.ts";

/** The VMM could not be reached at all. */
export class VmmUnreachableError extends DstackError {
  /** What the transport said (ECONNREFUSED, ENOENT …). */
  readonly detail: string;
  constructor(endpoint: string, detail: string) {
    super(`no VMM answers at ${endpoint} — is it running? try \`dstackup status\` (${detail})`, {
      hint: "start it (`dstackup status` shows the services), or point --host / DSTACK_HOST at the right endpoint",
    });
    this.name = "VmmUnreachableError";
    this.detail = detail;
  }
}

/** The VMM answered with an error (HTTP 400 {"error": …}). */
export class VmmRpcError extends DstackError {
  readonly method: string;
  readonly vmmMessage: string;
  constructor(endpoint: string, method: string, message: string) {
    super(`VMM at ${endpoint} refused ${method}: ${message}`);
    this.name = "VmmRpcError";
    this.method = method;
    this.vmmMessage = message;
  }
}

export async function transportFor(o: ConnectOptions): Promise<Transport> {
  const h = o.host.trim();
  if (h.startsWith("unix:")) return unixTransport(h.slice(5));
  if (/^https?:\/\//.test(h)) return httpTransport(h);
  if (h.startsWith("ssh://")) {
    const { sshTransport } = await import("./transport-ssh.ts");
    return sshTransport(h, o);
  }
  if (h.startsWith("/")) return unixTransport(h);
  throw new UsageError(`unsupported host '${o.host}': expected unix:/path/to/vmm.sock, http(s)://host:port or ssh://user@host`);
}

function networkDetail(e: unknown): string {
  const err = e as { code?: string; message?: string; name?: string };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return "timed out";
  return err?.code ? `${err.code}${err.message && !err.message.includes(err.code) ? `: ${err.message}` : ""}` : String(err?.message ?? e);
}

/** The VMM closed a log stream it was sending (it stopped, restarted or crashed). Exit 1. */
export class VmmStreamClosedError extends DstackError {
  constructor(endpoint: string, detail: string) {
    super(`the VMM at ${endpoint} closed the log stream (${detail}): it stopped, restarted or crashed`, {
      hint: "see `dstackup status`; follow again once it answers",
    });
    this.name = "VmmStreamClosedError";
  }
}

export class VmmClient {
  readonly endpoint: string;
  /** Served by `dstack system dial-stdio` on an ssh:// host: the host's token, allowlist and facts are there. */
  readonly dial: boolean;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly t: Transport,
    token: string | undefined,
    timeoutMs: number,
  ) {
    this.endpoint = t.endpoint;
    this.dial = t.dial === true;
    this.timeoutMs = timeoutMs;
    this.headers = { "content-type": "application/json" };
    if (token) this.headers.authorization = `Bearer ${token}`;
  }

  private async request(path: string, init: RequestInit, what: string, timeout = true): Promise<Response> {
    let r: Response;
    try {
      r = await this.t.fetch(path, {
        ...init,
        headers: { ...this.headers, ...(init.headers as Record<string, string>) },
        ...(timeout ? { signal: AbortSignal.timeout(this.timeoutMs) } : {}),
      });
    } catch (e) {
      if (e instanceof DstackError) throw e; // the transport's own account (an ssh host that cannot serve)
      const d = networkDetail(e);
      if (d === "timed out")
        throw new DstackError(`the VMM at ${this.endpoint} did not answer ${what} within ${Math.round(this.timeoutMs / 1000)} s`, {
          hint: "is it overloaded or hung? try `dstackup status`",
        });
      throw new VmmUnreachableError(this.endpoint, d);
    }
    if (r.status === 401) {
      throw new DstackError(
        `the VMM at ${this.endpoint} refused the request: 401 unauthorized (${this.headers.authorization ? "wrong token" : "no token"})`,
        {
          hint: "pass --token, set DSTACK_TOKEN, or run as a user who can read the install's token file (sudo)",
        },
      );
    }
    return r;
  }

  /** Any prpc method; returns the parsed JSON (null for Empty responses). */
  async call<T>(method: string, body: unknown = {}): Promise<T> {
    const r = await this.request(`/prpc/${method}?json`, { method: "POST", body: JSON.stringify(body ?? {}) }, method);
    const text = await r.text();
    if (r.status !== 200) {
      let msg = text.trim() || `HTTP ${r.status}`;
      try {
        const j = JSON.parse(text) as { error?: string };
        if (typeof j.error === "string") msg = j.error;
      } catch {
        /* not JSON */
      }
      throw new VmmRpcError(this.endpoint, method, msg);
    }
    return (text === "" ? null : JSON.parse(text)) as T;
  }

  createVm(cfg: Partial<VmConfiguration>): Promise<{ id: string }> {
    return this.call("CreateVm", { ...defaultVmConfiguration(), ...cfg });
  }
  async startVm(id: string): Promise<void> {
    await this.call("StartVm", { id });
  }
  async stopVm(id: string): Promise<void> {
    await this.call("StopVm", { id });
  }
  async shutdownVm(id: string): Promise<void> {
    await this.call("ShutdownVm", { id });
  }
  async removeVm(id: string): Promise<void> {
    await this.call("RemoveVm", { id });
  }
  upgradeApp(req: UpdateVmRequest): Promise<{ id: string }> {
    return this.call("UpgradeApp", req);
  }
  updateVm(req: UpdateVmRequest): Promise<{ id: string }> {
    return this.call("UpdateVm", req);
  }
  status(req: StatusRequest = {}): Promise<StatusResponse> {
    return this.call("Status", req);
  }
  getInfo(id: string): Promise<GetInfoResponse> {
    return this.call("GetInfo", { id });
  }
  async listImages(): Promise<ImageInfo[]> {
    return (await this.call<{ images: ImageInfo[] }>("ListImages", {})).images;
  }
  getMeta(): Promise<GetMetaResponse> {
    return this.call("GetMeta", {});
  }
  version(): Promise<VersionResponse> {
    return this.call("Version", {});
  }
  listGpus(): Promise<ListGpusResponse> {
    return this.call("ListGpus", {});
  }
  getComposeHash(cfg: Partial<VmConfiguration>): Promise<{ hash: string }> {
    return this.call("GetComposeHash", { ...defaultVmConfiguration(), ...cfg });
  }
  getAppEnvEncryptPubKey(appId: string): Promise<PublicKeyResponse> {
    return this.call("GetAppEnvEncryptPubKey", { app_id: appId.replace(/^0x/i, "").toLowerCase() });
  }

  /** Log text chunks of a VM (serial by default); with follow, until the caller stops iterating. */
  async *logs(id: string, o: { follow?: boolean; lines?: number; ch?: LogChannel } = {}): AsyncGenerator<string> {
    const q = new URLSearchParams({
      id,
      follow: o.follow ? "true" : "false",
      ansi: "false",
      lines: String(o.lines ?? 10000),
      ch: o.ch ?? "serial",
    });
    const r = await this.request(`/logs?${q}`, { method: "GET" }, "logs", !o.follow);
    if (r.status === 404) throw new NotFoundError(`VM ${id} not found at ${this.endpoint}`);
    if (r.status !== 200) throw new DstackError(`vmm /logs returned status ${r.status}: ${(await r.text()).trim()}`);
    const dec = new TextDecoder();
    const reader = r.body!.getReader();
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          // the connection dropped mid-stream: the VMM stopped or restarted (Bun's own words are for its developers)
          const code = (e as { code?: string }).code;
          throw new VmmStreamClosedError(this.endpoint, code ?? "the connection closed");
        }
        if (chunk.done) break;
        yield dec.decode(chunk.value, { stream: true });
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  close(): void {
    this.t.close();
  }
}

export async function connectVmm(o: ConnectOptions): Promise<VmmClient> {
  return new VmmClient(await transportFor(o), o.token, o.timeoutMs ?? 30_000);
}
