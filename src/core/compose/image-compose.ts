/**
 * The docker-compose YAML for `dstack run IMAGE`: one service, deterministic
 * bytes (the same options give the same compose hash).
 */
import { UsageError } from "../errors.ts";
import { checkEnvName } from "./names.ts";
import { yamlQuote } from "./yaml-quote.ts";

export interface ImagePort {
  /** Port inside the CVM (published there to the container's same port). */
  vmPort: number;
  protocol?: "tcp" | "udp";
}

export interface ComposeFromImageOptions {
  /** Container image reference, e.g. `nginx`, `ghcr.io/org/app:1.2@sha256:…`. */
  image: string;
  /** Ports to publish inside the CVM (container port = VM port). */
  ports?: ImagePort[];
  /** Env var NAMES; values arrive as encrypted env and are interpolated as `${NAME}`. */
  env?: string[];
  /** Command (argv) overriding the image's default command. */
  command?: string[];
  /** Service name (default `app`). */
  service?: string;
  /** Restart policy (default `unless-stopped`). */
  restart?: "no" | "always" | "on-failure" | "unless-stopped";
}

const IMAGE_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_RE = new RegExp(
  `^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?/)?` +
    `${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*` +
    `(?::[\\w][\\w.-]{0,127})?` +
    `(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,})?$`,
);

/** Throw a UsageError unless `image` is a container image reference. */
export function checkImageRef(image: string): void {
  if (image.length > 512 || !IMAGE_RE.test(image)) {
    throw new UsageError(
      `invalid image ${JSON.stringify(image)}: expected [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST] with a lowercase NAME, e.g. nginx, nginx:1.27, ghcr.io/org/app@sha256:<64 hex>`,
    );
  }
}

const SERVICE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/**
 * A docker-compose YAML text for one image. Deterministic: the same options
 * give the same bytes (and so the same compose hash). Every scalar is quoted.
 */
export function composeFromImage(opts: ComposeFromImageOptions): string {
  checkImageRef(opts.image);
  const service = opts.service ?? "app";
  if (!SERVICE_RE.test(service)) throw new UsageError(`invalid service name ${JSON.stringify(service)}`);
  const lines = ["services:", `  ${service}:`, `    image: ${yamlQuote(opts.image)}`];
  lines.push(`    restart: ${yamlQuote(opts.restart ?? "unless-stopped")}`);
  const seen = new Set<string>();
  const ports: string[] = [];
  for (const p of opts.ports ?? []) {
    if (!Number.isInteger(p.vmPort) || p.vmPort < 1 || p.vmPort > 65535) {
      throw new UsageError(`invalid VM port ${p.vmPort}: a port is 1-65535`);
    }
    const proto = p.protocol ?? "tcp";
    const s = `${p.vmPort}:${p.vmPort}${proto === "udp" ? "/udp" : ""}`;
    if (!seen.has(s)) {
      seen.add(s);
      ports.push(s);
    }
  }
  if (ports.length) {
    lines.push("    ports:");
    for (const s of ports) lines.push(`      - ${yamlQuote(s)}`);
  }
  const env: string[] = [];
  for (const k of opts.env ?? []) {
    checkEnvName(k);
    if (!env.includes(k)) env.push(k);
  }
  if (env.length) {
    lines.push("    environment:");
    for (const k of env) lines.push(`      ${k}: ${yamlQuote(`\${${k}}`)}`);
  }
  if (opts.command?.length) {
    lines.push("    command:");
    for (const a of opts.command) lines.push(`      - ${yamlQuote(a, { compose: true })}`);
  }
  return `${lines.join("\n")}\n`;
}
