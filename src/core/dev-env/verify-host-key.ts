/**
 * Is the host key a dev environment announced really this run's CVM's (pure)? Its quote must
 * commit to the key (report data), its event log must replay to the quote's RTMRs and measure
 * the run's app id, its compose hash and — when the client has a pin for it — the OS image. A
 * simulated quote (signed by nothing) passes only when the host says it is the simulator; a
 * real quote's Intel signature is not checked here (no DCAP collateral in the client). Any
 * mismatch is a refusal: nothing may be pinned.
 */

import { RefusedError } from "../errors.ts";
import { checkQuote } from "../tdx/verify.ts";
import { type HostKeyAnnouncement, hostKeyReportData } from "./host-key-line.ts";

export interface HostKeyExpectation {
  appId: string;
  composeHash: string;
  /** the image's os-image-hash when the client knows it */
  osImageHash?: string | undefined;
  /** the VMM says it is dstack-vmm-sim */
  simulatorHost: boolean;
}

export interface VerifiedHostKey {
  /** `<type> <base64>`, as known_hosts holds it */
  key: string;
  simulated: boolean;
  /** what the quote was checked against, for the user */
  checked: string[];
  /** what could not be checked, and why */
  unchecked: string[];
}

const norm = (h: string) => h.toLowerCase().replace(/^0x/, "");

/** The key blob's own type name (an SSH wire string first) must be the announced type. */
function blobType(keyBase64: string): string {
  const b = Buffer.from(keyBase64, "base64");
  if (b.length < 4) return "";
  const n = b.readUInt32BE(0);
  return n <= b.length - 4 ? b.subarray(4, 4 + n).toString("latin1") : "";
}

export function verifyHostKey(a: HostKeyAnnouncement, want: HostKeyExpectation): VerifiedHostKey {
  const refuse = (why: string) =>
    new RefusedError(`the dev environment's SSH host key is not attested: ${why}`, {
      hint: "nothing was written; the host may be relaying another machine's key — do not connect to it",
    });
  if (blobType(a.keyBase64) !== a.keyType) throw refuse(`the key is not a ${a.keyType} key`);
  let q: ReturnType<typeof checkQuote>;
  try {
    q = checkQuote(a.quote, a.eventLog, hostKeyReportData(a.keyType, a.keyBase64));
  } catch (e) {
    throw refuse((e as Error).message);
  }
  if (q.simulated && !want.simulatorHost) throw refuse("the quote is simulated, and the host does not say it is the simulator");
  if (norm(q.appId) !== norm(want.appId)) throw refuse(`the quote's app id is ${q.appId || "missing"}, the run's is ${want.appId}`);
  if (norm(q.composeHash) !== norm(want.composeHash))
    throw refuse(`the quote's compose hash is ${q.composeHash || "missing"}, the run's is ${want.composeHash}`);
  const checked = ["report data = this key", "event log replays to the RTMRs", `app id ${want.appId}`, `compose hash ${want.composeHash}`];
  const unchecked: string[] = [];
  if (want.osImageHash) {
    if (norm(q.osImageHash) !== norm(want.osImageHash))
      throw refuse(`the quote's OS image is ${q.osImageHash || "missing"}, the image's pin is ${want.osImageHash}`);
    checked.push(`OS image ${want.osImageHash}`);
  } else unchecked.push("OS image (the client has no os-image-hash for the VM's image)");
  unchecked.push(
    q.simulated
      ? "simulated quote: signed by nothing, so whoever runs the simulator could forge it"
      : "the quote's Intel signature (DCAP) is not verified by this client",
  );
  return { key: `${a.keyType} ${a.keyBase64}`, simulated: q.simulated, checked, unchecked };
}
