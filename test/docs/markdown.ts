/** The docs as the doc tests read them: README.md and docs/*.md, their links, headings and shell code blocks. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/run.ts";

export interface Doc {
  /** Path relative to the repository root, e.g. `docs/dstack.md`. */
  path: string;
  text: string;
}

export function docs(): Doc[] {
  const paths = ["README.md", ...readdirSync(join(ROOT, "docs")).flatMap((n) => (n.endsWith(".md") ? [`docs/${n}`] : []))];
  return paths.map((path) => ({ path, text: readFileSync(join(ROOT, path), "utf8") }));
}

const FENCE = /^```([A-Za-z]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;

/** The bodies of fenced code blocks in one of `langs`. */
export function codeBlocks(text: string, langs: string[]): string[] {
  return [...text.matchAll(FENCE)].filter((m) => langs.includes(m[1]!)).map((m) => m[2]!);
}

/** Link targets of `[text](target)`, outside code blocks and code spans. */
export function linkTargets(text: string): string[] {
  const prose = text.replace(FENCE, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\[[^\]\n]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of every heading in a markdown text (outside code blocks). */
export function anchors(text: string): Set<string> {
  const prose = text.replace(FENCE, "");
  return new Set([...prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => slug(m[1]!)));
}
