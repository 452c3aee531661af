/**
 * Is the host key a dev environment announced really this run's CVM's (pure)? Its quote must
 * commit to the key and to the CVM's authorized keys, which must be exactly the ones the user
 * sealed (report data: a host that re-sealed the env with a key of its own is refused), its event log must replay to the quote's RTMRs and measure
 * the run's app id, its compose hash and — when the client has a pin for it — the OS image. A
 * simulated quote (signed by nothing) passes only when the host says it is the simulator; a
 * real quote's Intel signature is not checked here (no DCAP collateral in the client). Any
 * mismatch is a refusal: nothing may be pinned.
 */

import { RefusedError } from "../errors.ts";
import { checkQuote } from "../tdx/verify.ts";
import { authorizedKeysSha256, type HostKeyAnnouncement, hostKeyReportData } from "./host-key-line.ts";

export interface HostKeyExpectation {
  appId: string;
  composeHash: string;
  /** the image's os-image-hash when the client knows it */
  osImageHash?: string | undefined;
  /** the VMM says it is dstack-vmm-sim */
  simulatorHost: boolean;
  /** the authorized keys the user's identity seals (authorizedKeysText): the CVM must let in these and no others */
  authorizedKeys: string;
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
    q = checkQuote(a.quote, a.eventLog, hostKeyReportData(a.keyType, a.keyBase64, a.authorizedKeysSha256));
  } catch (e) {
    throw refuse((e as Error).message);
  }
  if (q.simulated && !want.simulatorHost) throw refuse("the quote is simulated, and the host does not say it is the simulator");
  if (norm(q.appId) !== norm(want.appId)) throw refuse(`the quote's app id is ${q.appId || "missing"}, the run's is ${want.appId}`);
  if (norm(q.composeHash) !== norm(want.composeHash))
    throw refuse(`the quote's compose hash is ${q.composeHash || "missing"}, the run's is ${want.composeHash}`);
  // the quote commits to the line's digest of the CVM's keys: they must be the user's
  const mine = authorizedKeysSha256(want.authorizedKeys);
  if (a.authorizedKeysSha256 !== mine) {
    throw new RefusedError(
      `the dev environment lets in other SSH keys than yours (its authorized keys' sha256 is ${a.authorizedKeysSha256}, yours ${mine})`,
      {
        hint: "attach with the --ssh-identity the run was applied with; if that is the one, the run's keys were changed on the host — do not connect to it",
      },
    );
  }
  const checked = [
    "report data = this key",
    "authorized keys = yours only",
    "event log replays to the RTMRs",
    `app id ${want.appId}`,
    `compose hash ${want.composeHash}`,
  ];
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
