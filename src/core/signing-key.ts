/**
 * The trust anchors for signed checksums (ssh-keygen -Y sign/verify, SSHSIG): the release
 * key pinned here and in install.sh (a test keeps the two equal), the namespaces that keep a
 * release signature from passing as a bundle's and back, and the form a trusted key takes.
 */
import { UsageError } from "./errors.ts";

/** Public half of the key that signs every release's SHA256SUMS; the private half lives only in the pipeline's secrets. */
export const RELEASE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPKWBjpW1PLzbbzbTZ7mnSCc4AI6EWgB97dsOXgEVbc5 dstack-release";

export const RELEASE_NAMESPACE = "dstack-release";
export const BUNDLE_NAMESPACE = "dstack-bundle";

const KEY_LINE = /^((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})(?: .*)?$/;

/** Does this text look like a public key itself (rather than the name of a file holding one)? */
export const isKeyText = (s: string): boolean => KEY_LINE.test(s.trim());

/** The first key line of a .pub / authorized_keys style text, as "TYPE BASE64" (the comment dropped). */
export function parsePublicKey(text: string, where: string): string {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = KEY_LINE.exec(line);
    if (!m) break;
    return `${m[1]} ${m[2]}`;
  }
  throw new UsageError(`${where} is not an SSH public key (want a line like "ssh-ed25519 AAAA… comment", as in a .pub file)`);
}

/** An allowed_signers line (ssh-keygen(1) ALLOWED SIGNERS) trusting key for one namespace only. */
export const allowedSigners = (principal: string, namespace: string, key: string): string =>
  `${principal} namespaces="${namespace}" ${key}\n`;
