/** Shared inputs for the compose tests: the worked example and a seeded generator of awkward strings. */

// Dstack-TEE/dstack: examples/hello-nginx/docker-compose.yaml
export const HELLO_YAML =
  '# SPDX-FileCopyrightText: © 2026 Phala Network <dstack@phala.network>\n#\n# SPDX-License-Identifier: Apache-2.0\n\nservices:\n  web:\n    image: nginx:alpine\n    ports:\n      - "80:80"\n';

export function helloManifest(): Record<string, unknown> {
  // the 11 keys in the Rust source's insertion order
  return {
    manifest_version: 2,
    name: "hello-nginx",
    runner: "docker-compose",
    docker_compose_file: HELLO_YAML,
    kms_enabled: true,
    gateway_enabled: false,
    local_key_provider_enabled: false,
    public_logs: true,
    public_sysinfo: true,
    no_instance_id: false,
    secure_time: false,
  };
}

export function sortDeep(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortDeep);
  if (x && typeof x === "object") {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) o[k] = sortDeep((x as Record<string, unknown>)[k]);
    return o;
  }
  return x;
}

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz",
  "ABCXYZ0123456789-_. @~!$^()",
  "äöüßéñçø",
  "日本語中文한국어",
  "😀🚀🔐𝔘𝔫𝔦",
  '"\\/\n\t\r\b\f\u0000\u001f\u007f\u2028\u2029\ufeff',
  "$${}'`#:-[]{}&*!|>%@",
];

export function randString(r: () => number, max: number, alphabets = ALPHABETS): string {
  const n = Math.floor(r() * max);
  let s = "";
  for (let i = 0; i < n; i++) {
    const a = [...alphabets[Math.floor(r() * alphabets.length)]!];
    s += a[Math.floor(r() * a.length)]!;
  }
  return s;
}

export function randName(r: () => number): string {
  const chars = "ABCXYZabcxyz0123456789-_. @~!$^()";
  let s = "";
  const n = 1 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)]!;
  return s;
}

export function randEnvName(r: () => number): string {
  const first = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
  const rest = `${first}0123456789`;
  let s = first[Math.floor(r() * first.length)]!;
  const n = Math.floor(r() * 20);
  for (let i = 0; i < n; i++) s += rest[Math.floor(r() * rest.length)]!;
  return s;
}
