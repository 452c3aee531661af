import { type DecisionLog, makeWebhook } from "../../auth/server.ts";
import { DstackError, UsageError } from "../../core/errors.ts";
import { parseSize } from "../../core/specs/resources.ts";
import { LogFile } from "../../host/services/log-file.ts";
import { defineCommand } from "../shared/command.ts";
import { allowlistPath, configArgs } from "./paths.ts";

export default defineCommand({
  meta: { name: "serve", description: "Serve the KMS auth webhook (GET /, POST /bootAuth/app, POST /bootAuth/kms)" },
  args: {
    ...configArgs,
    address: { type: "string", default: "127.0.0.1", description: "Listen address (keep it on loopback)" },
    port: { type: "string", default: "8001", description: "Listen port" },
    "log-format": { type: "string", default: "text", description: "text | json (one line per decision, on stderr)" },
    "log-file": {
      type: "string",
      description: "Write the log to FILE instead of stderr, capped and rotated (FILE.1 … FILE.<keep>)",
      valueHint: "FILE",
    },
    "log-max-size": {
      type: "string",
      default: "10M",
      description: "With --log-file: the most one file holds (512K, 10M, 1G; at least 4K)",
    },
    "log-keep": { type: "string", default: "3", description: "With --log-file: how many rotated files to keep (1-100)" },
  },
  async run({ args, io }) {
    const path = allowlistPath(args);
    const port = Number(args.port);
    if (!/^\d+$/.test(String(args.port)) || port > 65535) throw new UsageError(`--port must be between 0 and 65535 (got ${args.port})`);
    const fmt = String(args["log-format"]);
    if (fmt !== "text" && fmt !== "json") throw new UsageError(`--log-format must be text or json (got ${fmt})`);
    const log = args["log-file"] === undefined ? undefined : openLog(String(args["log-file"]), args, fmt);
    const sink = log ? (s: string) => log.write(s) : io.stderr;
    // Decision lines are batched into one write per event-loop turn: one syscall for many
    // requests. The lines of one batch were decided in the same turn (well under a
    // millisecond apart) and share its timestamp, taken once.
    let pending = "";
    let stamp = "";
    const flush = () => {
      if (pending) sink(pending);
      pending = "";
    };
    const begin = () => {
      if (!pending) {
        setImmediate(flush);
        stamp = new Date().toISOString();
      }
    };
    const line = (o: Record<string, unknown>, text: string) => {
      begin();
      pending += fmt === "json" ? `${JSON.stringify({ time: stamp, ...o })}\n` : `${stamp} ${text}\n`;
    };
    // The per-request line is built in the chosen format only.
    const decisionLine =
      fmt === "json"
        ? (d: DecisionLog) => {
            begin();
            pending += `{"time":"${stamp}","event":"decision",${JSON.stringify(d).slice(1)}\n`;
          }
        : (d: DecisionLog) => {
            begin();
            pending += `${stamp} ${d.route} ${d.route === "app" ? `app=${d.appId} compose=${d.composeHash}` : `mr=${d.mrAggregated}`} allowed=${d.allowed} reason=${JSON.stringify(d.reason)}\n`;
          };
    const fetch = makeWebhook(path, {
      onDecision: decisionLine,
      onAllowlistChange: (l) =>
        l.ok
          ? line(
              { event: "allowlist", ok: true, path, apps: Object.keys(l.list.apps).length },
              `allowlist ${path} loaded: ${Object.keys(l.list.apps).length} app(s), ${l.list.osImages.length} pinned os image(s)`,
            )
          : line(
              { event: "allowlist", ok: false, path, error: l.error },
              `allowlist unavailable (denying every request until fixed): ${l.error}`,
            ),
    });
    let server: ReturnType<typeof Bun.serve>;
    try {
      server = Bun.serve({
        hostname: String(args.address),
        port,
        // The handler enforces the 64 KiB limit itself, with a JSON 413, and never reads past it
        // (content-length checked first; a chunked body abandoned once over). Bun's own limit
        // would answer a bigger body with an empty 413.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        routes: fetch.routes, // the KMS's two POST routes, matched by Bun; everything else goes to fetch
        fetch,
        error: (e) =>
          new Response(JSON.stringify({ error: `internal error: ${e.message}` }), {
            status: 500,
            headers: { "content-type": "application/json" },
          }),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const where = `http://${args.address}:${port}`;
      throw new DstackError(`cannot listen on ${where}: ${code === "EADDRINUSE" ? "the port is in use" : (e as Error).message}`, {
        hint:
          code === "EADDRINUSE"
            ? `another process (maybe another dstack-auth) holds port ${port}: stop it or choose another --port`
            : "--address must be an address of this host (default 127.0.0.1), --port a free port",
        cause: e,
      });
    }
    line(
      { event: "listening", address: args.address, port: server.port, config: path },
      `dstack-auth listening on http://${args.address}:${server.port} (allowlist ${path})`,
    );
    if (!isLoopback(String(args.address))) {
      line(
        { event: "warning", message: "listening beyond loopback" },
        `warning: ${args.address} is not a loopback address, so other hosts can query which apps get keys; the KMS CVM reaches the host's loopback (10.0.2.2 in the guest), so --address 127.0.0.1 is enough`,
      );
    }
    await new Promise<void>((resolve) => io.onSignal(["SIGTERM", "SIGINT"], resolve));
    await server.stop(false); // finish in-flight requests
    line({ event: "stopped" }, "dstack-auth stopped");
    flush();
    await log?.close();
    return 0;
  },
});

/** --log-file with its cap; a notice of lost lines in the log's own format. */
function openLog(path: string, args: { "log-max-size"?: string; "log-keep"?: string }, fmt: string): LogFile {
  const maxBytes = parseSize(String(args["log-max-size"]), 1, "--log-max-size", "bytes or a size with a unit: 512K, 10M, 1G");
  if (maxBytes < 4096) throw new UsageError(`--log-max-size must be at least 4K (got ${args["log-max-size"]})`);
  const keep = String(args["log-keep"]);
  if (!/^\d+$/.test(keep) || Number(keep) < 1 || Number(keep) > 100)
    throw new UsageError(`--log-keep must be between 1 and 100 (got ${keep})`);
  const notice = (lines: number, why: string) => {
    const time = new Date().toISOString();
    return fmt === "json"
      ? `${JSON.stringify({ time, event: "log-lines-lost", lines, error: why })}\n`
      : `${time} ${lines} log line(s) lost: cannot write ${path} (${why})\n`;
  };
  try {
    return new LogFile(path, { maxBytes, keep: Number(keep) }, notice);
  } catch (e) {
    throw new DstackError(`cannot open the log file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: "--log-file must name a file in a directory that exists and this user may write to",
      cause: e,
    });
  }
}

/** 127.0.0.0/8, ::1 and localhost. */
function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  return a === "localhost" || a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
