/**
 * GET /logs (Dstack-TEE/dstack: dstack/vmm/src/main_routes.rs `vm_logs`): the last `lines` of a VM's
 * serial, stdout or stderr log, then, with follow, what is appended, with a `[vmm heartbeat]`
 * line after 60 s of silence; ANSI escapes stripped unless ansi=true.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { VmStore } from "./store.ts";
import { HEADERS } from "./version.ts";

/** Rocket's bool form values: missing = false, undefined = not a bool (the route does not match). */
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

export function logsResponse(store: VmStore, url: URL, req: Request): Response {
  const id = url.searchParams.get("id");
  if (id === null) return new Response("missing id", { status: 422 });
  const vm = store.vms.get(id);
  if (!vm) return new Response("VM not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", ...HEADERS } });
  const follow = parseBool(url.searchParams.get("follow"));
  const ansi = parseBool(url.searchParams.get("ansi"));
  if (follow === undefined || ansi === undefined) return new Response("unprocessable", { status: 422 });
  const ch = url.searchParams.get("ch") ?? "serial";
  if (ch !== "serial" && ch !== "stdout" && ch !== "stderr") return new Response(`Unknown channel ${ch}`, { status: 400 });
  const linesRaw = Number(url.searchParams.get("lines"));
  const lines = Number.isInteger(linesRaw) && linesRaw >= 0 && url.searchParams.has("lines") ? linesRaw : 10000;
  const path = store.logPath(id, ch);
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
