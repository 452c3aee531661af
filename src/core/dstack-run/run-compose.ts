/**
 * The docker-compose a run's CVM starts, generated deterministically (the same
 * input gives the same bytes, so the same compose hash). Everything the run
 * executes is in it — image, start script, command line, the files archive
 * (`x-dstack-files`), the configuration (`x-dstack-run`) — so the KMS measures
 * all of it. Env values are not: each variable is `${NAME}`, filled in the CVM
 * from the sealed env. Every scalar is quoted; `$` in user text is doubled so
 * compose keeps it literal.
 */
import { checkImageRef } from "../compose/image-compose.ts";
import { checkEnvName } from "../compose/names.ts";
import { yamlQuote } from "../compose/yaml-quote.ts";
import { COMPOSE_IN_CONTAINER, COMPOSE_ON_CVM, FILES_KEY, type StartRepo, startScript } from "./start-script.ts";

export const SERVICE = "app";
export const RUN_KEY = "x-dstack-run";

export interface RunComposeInput {
  image: string;
  /** the command line, started through the start script; undefined = the image's own ENTRYPOINT/CMD */
  argv?: string[];
  workingDir?: string;
  user?: string;
  privileged: boolean;
  /** seconds */
  maxDuration?: number;
  /** seconds */
  stopGracePeriod: number;
  restart: "no" | "on-failure";
  /** container ports published on the CVM (same port number) */
  ports: number[];
  /** literal values (not secret: part of the hash), e.g. DSTACK_RUN_NAME */
  literalEnv: [string, string][];
  /** sealed: only `${NAME}` appears */
  sealedEnv: string[];
  /** bind mounts `GUEST_PATH:CONTAINER_PATH` of the CVM's own files, e.g. the guest agent's socket */
  binds: string[];
  /** named volumes (on the CVM's encrypted disk) → container path */
  volumes: { name: string; path: string }[];
  gpus: number;
  shmBytes?: number;
  filesBase64: string;
  repo?: StartRepo;
  /** the configuration, JSON, recorded for `ps`, diffs and in-place updates */
  runJson: string;
}

const lit = (s: string) => yamlQuote(s, { compose: true });

export function runCompose(i: RunComposeInput): string {
  checkImageRef(i.image);
  const l: string[] = [`${RUN_KEY}: ${lit(i.runJson)}`];
  if (i.filesBase64) l.push(`${FILES_KEY}: "${i.filesBase64}"`);
  l.push("services:", `  ${SERVICE}:`, `    image: ${yamlQuote(i.image)}`);
  // "no" is compose's default; left out, it cannot be misread as YAML 1.1's boolean by a tool that re-serialises the file.
  if (i.restart !== "no") l.push(`    restart: ${yamlQuote(i.restart)}`);
  const needsScript = i.filesBase64 !== "" || i.repo !== undefined;
  if (i.argv) {
    const script = startScript({ files: i.filesBase64 !== "", ...(i.repo ? { repo: i.repo } : {}) });
    l.push("    entrypoint:");
    for (const a of ["/bin/sh", "-c", script, "dstack-run", i.maxDuration === undefined ? "" : String(i.maxDuration), ...i.argv]) {
      l.push(`      - ${lit(a)}`);
    }
  } else if (needsScript || i.maxDuration !== undefined) {
    throw new Error("files, repos and max_duration need a command line (commands or entrypoint)");
  }
  if (i.workingDir) l.push(`    working_dir: ${lit(i.workingDir)}`);
  if (i.user) l.push(`    user: ${lit(i.user)}`);
  if (i.privileged) l.push("    privileged: true");
  l.push(`    stop_grace_period: "${i.stopGracePeriod}s"`);
  if (i.shmBytes !== undefined) l.push(`    shm_size: "${i.shmBytes}"`);
  if (i.ports.length) {
    l.push("    ports:");
    for (const p of i.ports) l.push(`      - "${p}:${p}"`);
  }
  const sealed = new Set(i.sealedEnv);
  const env = [...i.literalEnv.filter(([k]) => !sealed.has(k)).map(([k, v]) => `      ${k}: ${lit(v)}`)];
  for (const k of i.sealedEnv) {
    checkEnvName(k, "env");
    env.push(`      ${k}: ${yamlQuote(`\${${k}}`)}`);
  }
  if (env.length) l.push("    environment:", ...env);
  const mounts = [
    ...(i.filesBase64 ? [`${COMPOSE_ON_CVM}:${COMPOSE_IN_CONTAINER}:ro`] : []),
    ...i.binds,
    ...i.volumes.map((v) => `${v.name}:${v.path}`),
  ];
  if (mounts.length) {
    l.push("    volumes:");
    for (const m of mounts) l.push(`      - ${lit(m)}`);
  }
  if (i.gpus > 0) {
    l.push(
      "    deploy:",
      "      resources:",
      "        reservations:",
      "          devices:",
      '            - driver: "nvidia"',
      `              count: ${i.gpus}`,
      '              capabilities: ["gpu"]',
    );
  }
  if (i.volumes.length) {
    l.push("volumes:");
    for (const v of i.volumes) l.push(`  ${v.name}: {}`);
  }
  return `${l.join("\n")}\n`;
}
