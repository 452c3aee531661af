/**
 * Signed checksum files with OpenSSH's own tool (present on every host, so no new dependency):
 * `ssh-keygen -Y sign` writes FILE.sig; `ssh-keygen -Y verify` checks it against one trusted
 * key for one namespace. A missing or bad signature is refused; only a host without ssh-keygen
 * gets a warning instead, and a refusal under requireSignature.
 *
 *   signFile(file, privateKey, namespace) → FILE.sig
 *   verifySignature(file, FILE.sig, {trustedKey, namespace, requireSignature, warn}) → "verified" | "unchecked"
 *   trustedKeyFrom(value) → "TYPE BASE64"   (a key itself, or a file holding one)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DstackError, NotFoundError, RefusedError } from "../core/errors.ts";
import { allowedSigners, isKeyText, parsePublicKey } from "../core/signing-key.ts";
import { SANITISED_PATH } from "./runner.ts";

async function sshKeygen(args: string[], stdinFile?: string): Promise<{ code: number; out: string }> {
  let proc: Bun.Subprocess<"ignore" | Bun.BunFile, "pipe", "pipe">;
  try {
    proc = Bun.spawn(["ssh-keygen", ...args], {
      env: { PATH: process.env.DSTACK_TOOL_PATH ?? SANITISED_PATH, LANG: "C.UTF-8" },
      stdin: stdinFile ? Bun.file(stdinFile) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
  } catch {
    return { code: 127, out: "ssh-keygen not found" };
  }
  const [o, e, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: `${o}${e}`.trim() };
}

/** Is ssh-keygen there to check signatures with? (`ssh-keygen -Y` needs OpenSSH ≥ 8.1.) */
export async function haveSshKeygen(): Promise<boolean> {
  return (await sshKeygen(["-?"])).code !== 127;
}

/** A trusted key given as the key itself ("ssh-ed25519 AAAA…") or as a file holding it. */
export function trustedKeyFrom(value: string): string {
  if (isKeyText(value)) return parsePublicKey(value, "the trusted key");
  if (!existsSync(value)) throw new NotFoundError(`trusted key file not found: ${value}`);
  return parsePublicKey(readFileSync(value, "utf8"), value);
}

export async function signFile(file: string, privateKey: string, namespace: string): Promise<string> {
  if (!existsSync(privateKey)) throw new NotFoundError(`signing key not found: ${privateKey}`);
  const sig = `${file}.sig`;
  rmSync(sig, { force: true });
  const r = await sshKeygen(["-q", "-Y", "sign", "-f", privateKey, "-n", namespace, file]);
  if (r.code !== 0 || !existsSync(sig)) throw new DstackError(`ssh-keygen -Y sign of ${basename(file)} failed: ${r.out}`);
  return sig;
}

export interface VerifyOptions {
  trustedKey: string;
  namespace: string;
  /** refuse, rather than warn, when the host has no ssh-keygen */
  requireSignature: boolean;
  warn: (message: string) => void;
}

export async function verifySignature(file: string, sig: string, o: VerifyOptions): Promise<"verified" | "unchecked"> {
  const name = basename(file);
  if (!(await haveSshKeygen())) {
    const what = `there is no ssh-keygen on this host to check ${name}'s signature`;
    if (o.requireSignature) throw new RefusedError(`${what}, and a signature is required: install OpenSSH (openssh-client) and retry`);
    o.warn(`${what}: trusting its checksums unsigned (pass --require-signature to refuse instead)`);
    return "unchecked";
  }
  if (!existsSync(sig))
    throw new RefusedError(`${name} has no signature (${basename(sig)} is missing): refusing checksums nobody vouches for`);
  const dir = mkdtempSync(join(tmpdir(), "dstack-verify-"));
  try {
    const signers = join(dir, "allowed_signers");
    writeFileSync(signers, allowedSigners("dstack", o.namespace, o.trustedKey));
    const r = await sshKeygen(["-Y", "verify", "-f", signers, "-I", "dstack", "-n", o.namespace, "-s", sig], file);
    if (r.code !== 0) throw new RefusedError(`${name}: bad signature, not made by the trusted key ${o.trustedKey} (ssh-keygen: ${r.out})`);
    return "verified";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
