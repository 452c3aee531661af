#!/usr/bin/env bun
/**
 * bun scripts/lint-workflows.ts [FILE…]   (default: .github/workflows/*.yml)
 *
 * Offline checks of the GitHub Actions workflows: GitHub's own parser
 * (@actions/workflow-parser, what the Actions language service uses) validates each file
 * against the workflow schema and its expressions; then every `run:` script must not
 * embed `${{ … }}` (pass values through env: — an expression is pasted into the shell
 * unquoted) and must pass shellcheck as bash, the shell Actions runs it with.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parse } from "yaml";

interface Step {
  name?: string;
  run?: string;
}

export async function lintWorkflow(name: string, content: string): Promise<string[]> {
  const problems: string[] = [];
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  for (const e of parsed.context.errors.getErrors()) problems.push(`${name}: ${e.message}`);
  if (problems.length > 0) return problems;
  const doc = parse(content) as { jobs?: Record<string, { steps?: Step[] }> };
  const dir = mkdtempSync(join(tmpdir(), "lint-workflows-"));
  try {
    for (const [job, j] of Object.entries(doc.jobs ?? {})) {
      for (const [i, step] of (j.steps ?? []).entries()) {
        if (typeof step.run !== "string") continue;
        const where = `${name}: jobs.${job}.steps[${i}]${step.name ? ` (${step.name})` : ""}`;
        if (step.run.includes("${{")) problems.push(`${where}: an expression inside run: — pass it through env: instead`);
        const script = join(dir, `${job}-${i}.sh`);
        writeFileSync(script, step.run.replace(/\$\{\{.*?\}\}/gs, "EXPR")); // reported above; shellcheck the rest
        const sc = Bun.spawnSync(["shellcheck", "-s", "bash", "-f", "gcc", script], { stdout: "pipe", stderr: "pipe" });
        if (sc.exitCode !== 0) {
          const out = `${sc.stdout}${sc.stderr}`.trim().replaceAll(`${script}:`, "line ");
          problems.push(`${where}: shellcheck:\n${out}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

if (import.meta.main) {
  const root = join(import.meta.dir, "..");
  const wf = join(root, ".github", "workflows");
  const files =
    process.argv.length > 2
      ? process.argv.slice(2)
      : readdirSync(wf)
          .filter((f) => /\.ya?ml$/.test(f))
          .map((f) => join(wf, f));
  let bad = 0;
  for (const f of files) {
    const problems = await lintWorkflow(basename(f), readFileSync(f, "utf8"));
    for (const p of problems) console.error(p);
    bad += problems.length;
    if (problems.length === 0) console.log(`ok  ${basename(f)}`);
  }
  if (bad > 0) {
    console.error(`lint-workflows: ${bad} problem(s)`);
    process.exit(1);
  }
}
