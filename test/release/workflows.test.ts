/** The workflow lint passes the project's workflows and catches what it is there to catch. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lintWorkflow } from "../../scripts/lint-workflows.ts";
import { ROOT } from "../helpers/run.ts";

const ok = (steps: string) => `on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n${steps}`;

describe("lint-workflows", () => {
  test("the project's workflows are clean", async () => {
    for (const f of ["ci.yml", "release.yml"]) {
      expect(await lintWorkflow(f, readFileSync(join(ROOT, ".github/workflows", f), "utf8"))).toEqual([]);
    }
  });

  test("schema errors, bad expressions, expressions pasted into run:, shellcheck findings", async () => {
    const schema = await lintWorkflow("x.yml", "on: push\njobs:\n  a:\n    runs-onn: ubuntu-24.04\n    steps:\n      - run: true\n");
    expect(schema.join("\n")).toContain("runs-onn");
    const expr = await lintWorkflow("x.yml", ok("      - if: ${{ github.ref == }}\n        run: true\n"));
    expect(expr.length).toBeGreaterThan(0);
    const inject = await lintWorkflow("x.yml", ok('      - name: greet\n        run: echo "${{ github.event.pull_request.title }}"\n'));
    expect(inject).toEqual(["x.yml: jobs.a.steps[0] (greet): an expression inside run: — pass it through env: instead"]);
    const sc = await lintWorkflow("x.yml", ok("      - run: |\n          f=$(ls)\n          rm $f\n"));
    expect(sc.join("\n")).toContain("SC2086");
    expect(await lintWorkflow("x.yml", ok('      - run: |\n          f=$(ls)\n          echo "$f"\n'))).toEqual([]);
  });
});
