/**
 * Validation of a user's docker-compose file: parsed only to validate; it is
 * embedded verbatim, never re-serialised (the hash covers the raw text).
 */
import { UsageError } from "../errors.ts";

export interface DockerComposeInfo {
  /** Service names, in file order. */
  services: string[];
}

/** A docker-compose file that cannot run in a CVM. Exit 2. */
export class InvalidDockerComposeError extends UsageError {
  readonly issues: string[];
  constructor(label: string, issues: string[]) {
    super(`${label} is not a usable docker-compose file:\n  ${issues.join("\n  ")}`);
    this.name = "InvalidDockerComposeError";
    this.issues = issues;
  }
}

/**
 * Check a docker-compose YAML (parsed only to validate; the text is embedded
 * verbatim): one YAML document, a mapping with a non-empty `services` mapping,
 * each service a mapping with an `image:` and no `build:` (a CVM cannot build).
 * Messages carry line numbers. `label` names the file in messages.
 */
export async function validateDockerCompose(text: string, label = "the compose file"): Promise<DockerComposeInfo> {
  const { parseAllDocuments, LineCounter, isMap, isScalar } = await import("yaml");
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const issues: string[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return "";
    const p = lc.linePos(offset);
    return `line ${p.line}, column ${p.col}: `;
  };
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length === 0) throw new InvalidDockerComposeError(label, ["the file is empty; it needs a `services:` mapping"]);
  if (list.length > 1) {
    throw new InvalidDockerComposeError(label, [`${at(list[1]!.range[0])}more than one YAML document (---); use one`]);
  }
  const doc = list[0]!;
  for (const e of doc.errors) issues.push(`${at(e.pos[0])}${e.message.split("\n")[0]}`);
  if (issues.length) throw new InvalidDockerComposeError(label, issues);
  const root = doc.contents;
  if (!isMap(root)) {
    throw new InvalidDockerComposeError(label, [`${at(root?.range?.[0])}the top level must be a mapping with a \`services:\` key`]);
  }
  const servicesPair = root.items.find((p) => isScalar(p.key) && p.key.value === "services");
  if (!servicesPair) throw new InvalidDockerComposeError(label, ["no `services:` key at the top level"]);
  const services = servicesPair.value;
  const keyPos = isScalar(servicesPair.key) ? servicesPair.key.range?.[0] : undefined;
  if (!isMap(services) || services.items.length === 0) {
    throw new InvalidDockerComposeError(label, [`${at(keyPos)}\`services:\` must be a mapping of at least one service`]);
  }
  const names: string[] = [];
  for (const item of services.items) {
    const name = isScalar(item.key) ? String(item.key.value) : String(item.key);
    const namePos = isScalar(item.key) ? item.key.range?.[0] : undefined;
    names.push(name);
    const svc = item.value;
    if (!isMap(svc)) {
      issues.push(`${at(namePos)}service "${name}" must be a mapping`);
      continue;
    }
    const build = svc.items.find((p) => isScalar(p.key) && p.key.value === "build");
    if (build) {
      const pos = isScalar(build.key) ? build.key.range?.[0] : namePos;
      issues.push(`${at(pos)}service "${name}" uses \`build:\`; a CVM cannot build images: build and push it, then use \`image:\``);
    }
    const image = svc.items.find((p) => isScalar(p.key) && p.key.value === "image");
    if (!image && !build) issues.push(`${at(namePos)}service "${name}" has no \`image:\``);
    else if (image && !(isScalar(image.value) && typeof image.value.value === "string" && image.value.value.trim() !== "")) {
      const pos = isScalar(image.key) ? image.key.range?.[0] : namePos;
      issues.push(`${at(pos)}service "${name}": \`image:\` must be a non-empty string`);
    }
  }
  if (issues.length) throw new InvalidDockerComposeError(label, issues);
  return { services: names };
}
