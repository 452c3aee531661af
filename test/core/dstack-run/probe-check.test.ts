import { describe, expect, test } from "bun:test";
import { probeMark, probePassed, probeRequest, probesCell, publishedBase } from "../../../src/core/dstack-run/probe-check.ts";
import { parseProbe } from "../../../src/core/dstack-yml/forms/probes.ts";

describe("a probe's request, its pass rule and its marks", () => {
  test("the request: url on the service's base, method as HTTP says it, headers and body with ${{ env.X }} filled", () => {
    const p = parseProbe({
      type: "http",
      url: "/health?k=${{ env.K }}",
      method: "post",
      headers: [{ name: "Authorization", value: "Bearer ${{ env.TOKEN }}" }],
      body: '{"q": "${{ env.K }}"}',
      timeout: "3s",
    });
    const env = new Map([
      ["K", "v"],
      ["TOKEN", "t0k"],
    ]);
    expect(probeRequest(p, "http://127.0.0.1:8080/", env)).toEqual({
      url: "http://127.0.0.1:8080/health?k=v",
      method: "POST",
      headers: [["Authorization", "Bearer t0k"]],
      body: '{"q": "v"}',
      timeoutMs: 3000,
    });
    // without the run's env (ps: only the CVM and the applying client hold the values), it cannot be sent
    expect(probeRequest(p, "http://127.0.0.1:8080", undefined)).toBeUndefined();
    expect(probeRequest(parseProbe({ type: "http" }), "http://h:1", undefined)).toEqual({
      url: "http://h:1/",
      method: "GET",
      headers: [],
      timeoutMs: 10_000,
    });
  });
  test("2xx passes; redirects and errors do not", () => {
    expect([200, 204, 299].map(probePassed)).toEqual([true, true, true]);
    expect([199, 301, 404, 503].map(probePassed)).toEqual([false, false, false, false]);
  });
  test("marks: ✓ ready_after passes in a row, ~ fewer, × failing, ? not checked; the PROBES cell", () => {
    expect([probeMark(0, 1), probeMark(1, 1), probeMark(1, 3), probeMark(3, 3), probeMark(undefined, 1)]).toEqual([
      "×",
      "✓",
      "~",
      "✓",
      "?",
    ]);
    expect(probesCell(["✓", "×"])).toBe("✓×");
    expect(probesCell([])).toBe("-");
  });
});

describe("where the client reaches a published port", () => {
  test("a VMM on this machine: the bound address, 0.0.0.0 as 127.0.0.1", () => {
    expect(publishedBase("unix:/run/dstack/vmm.sock", "127.0.0.1", 8080)).toBe("http://127.0.0.1:8080");
    expect(publishedBase("unix:/x.sock", "0.0.0.0", 8080)).toBe("http://127.0.0.1:8080");
    expect(publishedBase("http://127.0.0.1:9080", "10.0.0.5", 81)).toBe("http://10.0.0.5:81");
    expect(publishedBase("http://localhost:9080/", "::1", 81)).toBe("http://[::1]:81");
  });
  test("a remote VMM over HTTP(S): its host for 0.0.0.0; a port on its loopback is not reachable", () => {
    expect(publishedBase("https://tdx.example.com:9080", "0.0.0.0", 8080)).toBe("http://tdx.example.com:8080");
    expect(publishedBase("https://tdx.example.com:9080", "192.0.2.7", 8080)).toBe("http://192.0.2.7:8080");
    expect(publishedBase("https://tdx.example.com:9080", "127.0.0.1", 8080)).toBeUndefined();
  });
  test("an ssh:// host: its ports are not forwarded here", () => {
    expect(publishedBase("ssh://me@tdx", "0.0.0.0", 8080)).toBeUndefined();
  });
});
