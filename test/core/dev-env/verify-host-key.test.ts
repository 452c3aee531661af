import { describe, expect, test } from "bun:test";
import { authorizedKeysSha256, hostKeyReportData } from "../../../src/core/dev-env/host-key-line.ts";
import { verifyHostKey } from "../../../src/core/dev-env/verify-host-key.ts";
import { RefusedError } from "../../../src/core/errors.ts";
import { replayRtmrs, runtimeEvent } from "../../../src/core/tdx/eventlog.ts";
import { encodeSimulatedQuote } from "../../../src/core/tdx/quote.ts";

/** An ssh-ed25519 public key blob: the type as an SSH string, then 32 key bytes. */
function edKey(fill: number): string {
  const t = Buffer.from("ssh-ed25519");
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(t.length), t, len(32), Buffer.alloc(32, fill)]).toString("base64");
}

const APP = "ab".repeat(20);
const COMPOSE = "cd".repeat(32);
const OS = "ef".repeat(32);
const KEY = edKey(1);
const MINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMine me@laptop";

function announce(o: { key?: string; reportKey?: string; app?: string; compose?: string; os?: string; keys?: string } = {}) {
  const keys = authorizedKeysSha256(o.keys ?? MINE);
  const eventLog = [
    runtimeEvent("app-id", Buffer.from(o.app ?? APP, "hex")),
    runtimeEvent("compose-hash", Buffer.from(o.compose ?? COMPOSE, "hex")),
    runtimeEvent("os-image-hash", Buffer.from(o.os ?? OS, "hex")),
  ];
  const quote = encodeSimulatedQuote({
    mrTd: "00".repeat(48),
    rtmrs: replayRtmrs(eventLog),
    reportData: hostKeyReportData("ssh-ed25519", o.reportKey ?? o.key ?? KEY, keys),
  });
  return { keyType: "ssh-ed25519", keyBase64: o.key ?? KEY, authorizedKeysSha256: keys, quote, eventLog, reportData: "" };
}

const want = { appId: APP, composeHash: COMPOSE, osImageHash: OS, simulatorHost: true, authorizedKeys: MINE };
const refusal = (f: () => unknown): RefusedError => {
  try {
    f();
  } catch (e) {
    if (e instanceof RefusedError) return e;
    throw e;
  }
  throw new Error("not refused");
};

describe("verifying a dev environment's host key", () => {
  test("a quote over this key, measuring this app, compose and image: the key to pin, and what was and was not checked", () => {
    const v = verifyHostKey(announce(), want);
    expect(v.key).toBe(`ssh-ed25519 ${KEY}`);
    expect(v.simulated).toBe(true);
    expect(v.checked).toContain(`compose hash ${COMPOSE}`);
    expect(v.checked).toContain(`OS image ${OS}`);
    expect(v.unchecked.join("\n")).toContain("simulated quote");
  });

  test("a quote whose report data commits to another key is refused", () => {
    const e = refusal(() => verifyHostKey(announce({ reportKey: edKey(2) }), want));
    expect(e.message).toContain("report data");
    expect(e.exitCode).toBe(4);
  });

  test("a CVM that lets in other keys than the user's (the host re-sealed the env with its own key added) is refused", () => {
    const e = refusal(() => verifyHostKey(announce({ keys: `${MINE}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost host` }), want));
    expect(e.message).toContain("lets in other SSH keys than yours");
    // the line lying about its keys' digest: the quote's report data does not match it
    const lying = {
      ...announce({ keys: `${MINE}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost host` }),
      authorizedKeysSha256: authorizedKeysSha256(MINE),
    };
    expect(refusal(() => verifyHostKey(lying, want)).message).toContain("report data");
    expect(verifyHostKey(announce(), want).checked).toContain("authorized keys = yours only");
  });

  test("another app id, another compose hash, another OS image: refused, naming both values", () => {
    expect(refusal(() => verifyHostKey(announce({ app: "12".repeat(20) }), want)).message).toContain(`the run's is ${APP}`);
    expect(refusal(() => verifyHostKey(announce({ compose: "34".repeat(32) }), want)).message).toContain(`the run's is ${COMPOSE}`);
    expect(refusal(() => verifyHostKey(announce({ os: "56".repeat(32) }), want)).message).toContain(`pin is ${OS}`);
  });

  test("without an OS image pin the image is said to be unchecked", () => {
    const v = verifyHostKey(announce({ os: "56".repeat(32) }), { ...want, osImageHash: undefined });
    expect(v.unchecked[0]).toContain("OS image");
  });

  test("a simulated quote from a host that is not the simulator is refused", () => {
    expect(refusal(() => verifyHostKey(announce(), { ...want, simulatorHost: false })).message).toContain("simulated");
  });

  test("an event log that does not replay to the quote's RTMRs is refused", () => {
    const a = announce();
    a.eventLog = [runtimeEvent("app-id", Buffer.from(APP, "hex"))];
    expect(refusal(() => verifyHostKey(a, want)).message).toContain("RTMR");
  });

  test("a key blob of another type than announced is refused", () => {
    expect(refusal(() => verifyHostKey({ ...announce(), keyType: "ecdsa-sha2-nistp256" }, want)).message).toContain("not a ecdsa");
  });
});
