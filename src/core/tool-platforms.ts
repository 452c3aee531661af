/**
 * Where each tool runs: the client `dstack` anywhere a release is built for (Linux, macOS);
 * the host tools only on Linux, where a TDX/SNP host and its VMM live. Elsewhere they refuse
 * with a message saying what to run instead.
 */
export function refusalOn(tool: string, platform: string): string | undefined {
  if (tool === "dstack" || platform === "linux") return undefined;
  return `${tool} runs on the Linux host it sets up, not on ${platform}: here, drive a host with the client, e.g. \`dstack --host ssh://you@your-tdx-host ps\``;
}
