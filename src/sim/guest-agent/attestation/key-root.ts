/**
 * The per-host simulated KMS root: one file of 32 random bytes, mode 0600,
 * created when missing. Creation is atomic and exclusive (temp file, fsync,
 * link(2) onto the name, fsync the directory): two agents starting at once
 * agree on one root, and a crash never leaves a short file. An existing file of
 * any other size is refused, never replaced (keys derived from it would change).
 *
 * The root's secp256k1 key (the KMS "k256" root that signs app keys) and its
 * P-256 CA key (the root CA that signs TLS certificates) are derived from it.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { deriveKey } from "../../../core/keys/kdf.ts";

const ROOT_BYTES = 32;

function readRoot(path: string): Uint8Array {
  const b = readFileSync(path);
  if (b.length !== ROOT_BYTES)
    throw new Error(`${path}: the simulated KMS root key must be ${ROOT_BYTES} bytes, found ${b.length}; move it away to make a new one`);
  return new Uint8Array(b);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function loadOrCreateKeyRoot(path: string): Uint8Array {
  try {
    return readRoot(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, randomBytes(ROOT_BYTES));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another agent made it first: use theirs
  } finally {
    unlinkSync(tmp);
  }
  fsyncDir(dir);
  return readRoot(path);
}

export interface KmsRootKeys {
  /** secp256k1 secret that signs app keys */
  k256: Uint8Array;
  /** P-256 secret of the root CA */
  ca: Uint8Array;
}

export function kmsRootKeys(root: Uint8Array): KmsRootKeys {
  return {
    k256: deriveKey(root, [Buffer.from("dstack-vmm-sim kms k256 root")]),
    ca: deriveKey(root, [Buffer.from("dstack-vmm-sim kms root ca")]),
  };
}
