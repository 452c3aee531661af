/**
 * The links that open a dev environment in an IDE over the SSH alias `dstack attach` writes
 * (dstackai: src/dstack/_internal/server/services/ides/*.py): the remote-SSH authority is the
 * alias, followed by the absolute working directory.
 */
import type { Ide } from "../dstack-yml/dev-environment.ts";

export const IDE_TITLES: Record<Ide, string> = { vscode: "VS Code", cursor: "Cursor", windsurf: "Windsurf", zed: "Zed" };

export function ideLink(ide: Ide, alias: string, workingDir: string): string {
  const dir = workingDir.startsWith("/") ? workingDir : `/${workingDir}`;
  return ide === "zed" ? `zed://ssh/${alias}${dir}` : `${ide}://vscode-remote/ssh-remote+${alias}${dir}`;
}
