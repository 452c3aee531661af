/** A small unified-style line diff for --dry-run plans (LCS over lines). */
export function lineDiff(before: string, after: string, context = 2): string {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return `(${n} → ${m} lines; too large to diff)`;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: [" " | "-" | "+", string][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push([" ", a[i]!]);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push(["-", a[i]!]);
      i++;
    } else {
      ops.push(["+", b[j]!]);
      j++;
    }
  }
  const keep = ops.map((_, k) => ops.slice(Math.max(0, k - context), k + context + 1).some(([t]) => t !== " "));
  const out: string[] = [];
  let skipped = false;
  ops.forEach(([t, line], k) => {
    if (keep[k]) {
      if (skipped) out.push("  …");
      skipped = false;
      out.push(`${t} ${line}`);
    } else skipped = true;
  });
  if (skipped) out.push("  …");
  return out.join("\n");
}
