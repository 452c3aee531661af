/**
 * How a dev environment's CVM announces its SSH host key: one serial-console line,
 *
 *     [dstack] ssh-host-key <key-type> <key-base64> <authorized-keys-sha256> <base64 of the guest agent's GetQuote answer>
 *
 * where the quote's report data is sha512(`dstack-ssh-host-key:<key-type> <key-base64> <keys-sha256>`),
 * so the quote commits to exactly that key and to who may log in with it: the sha256 of the
 * authorized keys the CVM was given (AUTHORIZED_KEYS_ENV as sealed). The sealed env is secret from
 * the host but not authenticated (anyone can encrypt to the app's public env key), so without it a
 * host could boot the app with its own key added and the user would see a verified host key. The
 * host relays the line but cannot forge it: a quote for another key or other keys would need a CVM
 * measured as this app. This module is the wire format only; checking the quote against the run's
 * identity is the client's.
 */
import { createHash } from "node:crypto";
import type { TdxEvent } from "../tdx/eventlog.ts";

/** The CVM port the dev environment's sshd listens on (dstackai uses the same). */
export const DEV_SSH_PORT = 10022;
/** The sealed env variable carrying the OpenSSH public keys allowed to log in, one per line. */
export const AUTHORIZED_KEYS_ENV = "DSTACK_SSH_AUTHORIZED_KEYS";
/** The guest agent GetKey path the host key is derived from, followed by `/<authorized-keys-sha256>`: other keys, another host key. */
export const HOST_KEY_PATH = "dstack/ssh-host-key";
export const HOST_KEY_LINE_PREFIX = "[dstack] ssh-host-key ";
export const HOST_KEY_REPORT_PREFIX = "dstack-ssh-host-key:";

export interface HostKeyAnnouncement {
  /** e.g. ecdsa-sha2-nistp256 */
  keyType: string;
  keyBase64: string;
  /** hex sha256 of the authorized keys the CVM lets in */
  authorizedKeysSha256: string;
  quote: Uint8Array;
  eventLog: TdxEvent[];
  /** hex, as GetQuote answered */
  reportData: string;
}

/** The 64 bytes of report data a quote for this host key, letting in the keys of that digest, carries. */
export function hostKeyReportData(keyType: string, keyBase64: string, authorizedKeysSha256: string): Uint8Array {
  return new Uint8Array(
    createHash("sha512").update(`${HOST_KEY_REPORT_PREFIX}${keyType} ${keyBase64} ${authorizedKeysSha256}`, "utf8").digest(),
  );
}

/** The digest of the authorized keys as sealed (authorizedKeysText), as the CVM computes it. */
export function authorizedKeysSha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

const KEY_TYPE = /^[a-z0-9@.-]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The announcement in a serial-console line (the app's text, after any log prefix), undefined
 * when the line is not one; a line that starts like one but is malformed throws, naming what.
 */
export function parseHostKeyLine(line: string): HostKeyAnnouncement | undefined {
  const at = line.indexOf(HOST_KEY_LINE_PREFIX);
  if (at < 0) return undefined;
  const [keyType = "", keyBase64 = "", keys = "", answer = "", ...rest] = line
    .slice(at + HOST_KEY_LINE_PREFIX.length)
    .trim()
    .split(/\s+/);
  if (!KEY_TYPE.test(keyType) || !BASE64.test(keyBase64) || !SHA256.test(keys) || !BASE64.test(answer) || rest.length) {
    throw new Error("the CVM's ssh-host-key line is malformed (want: <key-type> <key-base64> <authorized-keys-sha256> <quote-base64>)");
  }
  let q: { quote?: unknown; event_log?: unknown; report_data?: unknown };
  try {
    q = JSON.parse(Buffer.from(answer, "base64").toString("utf8"));
  } catch {
    throw new Error("the CVM's ssh-host-key line does not carry a GetQuote answer (not base64 JSON)");
  }
  if (typeof q.quote !== "string" || !/^([0-9a-f]{2})+$/i.test(q.quote) || typeof q.event_log !== "string") {
    throw new Error("the CVM's ssh-host-key line: its GetQuote answer has no quote or event_log");
  }
  let eventLog: unknown;
  try {
    eventLog = JSON.parse(q.event_log);
  } catch {
    throw new Error("the CVM's ssh-host-key line: its event_log is not JSON");
  }
  if (!Array.isArray(eventLog)) throw new Error("the CVM's ssh-host-key line: its event_log is not a list");
  return {
    keyType,
    keyBase64,
    authorizedKeysSha256: keys,
    quote: new Uint8Array(Buffer.from(q.quote, "hex")),
    eventLog: eventLog as TdxEvent[],
    reportData: typeof q.report_data === "string" ? q.report_data : "",
  };
}
