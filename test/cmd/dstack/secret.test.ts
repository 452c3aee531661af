import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";

test("dstack secret set, list (masked), get, delete: a 0600 file of our own", async () => {
  const home = mkdtempSync(join(tmpdir(), "dstack-secret-"));
  const env = { XDG_CONFIG_HOME: home };
  const dstack = (args: string[]) => runCli("dstack", args, { env });
  expect(await dstack(["secret", "set", "hf_token", "hf-123"])).toMatchObject({ code: 0, stdout: "OK\n" });
  expect(await dstack(["secret", "set", "api", "a b c"])).toMatchObject({ code: 0 });
  const path = join(home, "dstack-tee", "secrets.json");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ secrets: { api: "a b c", hf_token: "hf-123" } });
  const ls = await dstack(["secret"]);
  expect(ls.stdout).toBe("NAME       VALUE\napi        ******\nhf_token   ******\n");
  expect((await dstack(["secret", "get", "api"])).stdout).toBe("a b c\n");
  expect(await dstack(["secret", "delete", "api", "-y"])).toMatchObject({ code: 0, stdout: "OK\n" });
  expect((await dstack(["secret", "get", "api"])).code).toBe(3);
  expect((await dstack(["secret", "set", "bad name", "x"])).code).toBe(2);
});
