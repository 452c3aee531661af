/**
 * What a release is built for. Linux hosts get the whole multi-call binary (every tool name);
 * the developer laptops (macOS) get the client only: the host tools refuse to run there.
 */
export type Os = "linux" | "darwin";
export type Arch = "x64" | "arm64";
export type Compression = "gz" | "xz";

export interface Target {
  os: Os;
  arch: Arch;
  /** the host tools (dstackup, dstack-auth, …) run here, so their links ship too */
  hostTools: boolean;
  /** tarball compressions published: xz is ~25% smaller; gz for a Linux host whose tar cannot read xz */
  formats: Compression[];
}

export const TARGETS: Target[] = [
  { os: "linux", arch: "x64", hostTools: true, formats: ["gz", "xz"] },
  { os: "linux", arch: "arm64", hostTools: true, formats: ["gz", "xz"] },
  // macOS's tar (libarchive) always reads xz
  { os: "darwin", arch: "arm64", hostTools: false, formats: ["xz"] },
  { os: "darwin", arch: "x64", hostTools: false, formats: ["xz"] },
];

export const targetId = (t: Target): string => `${t.os}-${t.arch}`;

/** Bun's --target names the architectures its own way (aarch64 is spelled arm64 there too). */
export const bunTarget = (t: Target): string => `bun-${t.os}-${t.arch}`;

/** The release's name for a target's tarball stem: dstack-<version>-<os>-<arch>. */
export const stem = (version: string, t: Target): string => `dstack-${version}-${targetId(t)}`;

export function findTarget(id: string): Target {
  const t = TARGETS.find((x) => targetId(x) === id);
  if (!t) throw new Error(`unknown target ${id} (known: ${TARGETS.map(targetId).join(", ")})`);
  return t;
}

/** The target this machine runs. */
export function hostTarget(): Target {
  return findTarget(`${process.platform}-${process.arch === "arm64" ? "arm64" : "x64"}`);
}
