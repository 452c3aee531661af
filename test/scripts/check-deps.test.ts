import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const SCRIPT = join(import.meta.dir, "..", "..", "scripts", "check-deps.ts");

/** A src/ tree from relative path → source text. */
function tree(files: Record<string, string>): string {
  const src = join(mkdtempSync(join(tmpdir(), "check-deps-")), "src");
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, rel)), { recursive: true });
    writeFileSync(join(src, rel), text);
  }
  return src;
}

function checkDeps(src: string): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([process.execPath, SCRIPT, src], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const CLEAN = {
  "main.ts": 'import { run } from "./cmd/tool/index.ts";\nrun();\n',
  "cmd/tool/index.ts": 'import { plan } from "../../host/plan.ts";\nexport function run() { plan(); }\n',
  "host/plan.ts": 'import type { Layout } from "../core/layout.ts";\nexport function plan(l?: Layout) { return l; }\n',
  "core/layout.ts": "export interface Layout { prefix: string }\n",
};

describe("scripts/check-deps.ts", () => {
  test("a clean tree passes", () => {
    const r = checkDeps(tree(CLEAN));
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/check-deps: 4 files, 3 imports, 0 problem\(s\)/);
    expect(r.code).toBe(0);
  });

  test("a type-only import cycle and a core → host import are both reported; exit 1", () => {
    const r = checkDeps(
      tree({
        ...CLEAN,
        // core imports host: against the room rules
        "core/layout.ts": 'import type { Plan } from "../host/plan-types.ts";\nexport interface Layout { prefix: string; plan?: Plan }\n',
        "host/plan-types.ts": "export interface Plan { steps: string[] }\n",
        // a cycle of type imports only
        "host/a.ts": 'import type { B } from "./b.ts";\nexport interface A { b?: B }\n',
        "host/b.ts": 'export type { A } from "./a.ts";\nimport type { A } from "./a.ts";\nexport interface B { a?: A }\n',
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("src/core/layout.ts: room core may not import room host (src/host/plan-types.ts); allowed: none");
    expect(r.stderr).toMatch(/import cycle: src\/host\/(a|b)\.ts → src\/host\/(b|a)\.ts → src\/host\/\1\.ts/);
    expect(r.stdout).toMatch(/2 problem\(s\)/);
  });

  test("an import of cmd from a room, and one tool's commands importing another's, are reported", () => {
    const r = checkDeps(
      tree({
        ...CLEAN,
        "host/plan.ts": 'import { run } from "../cmd/tool/index.ts";\nexport function plan() { return run; }\n',
        "cmd/other/index.ts": 'import { run } from "../tool/index.ts";\nexport const x = run;\n',
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("src/host/plan.ts: room host may not import room cmd");
    expect(r.stderr).toContain("src/cmd/other/index.ts: cmd/other may not import cmd/tool");
  });
});
