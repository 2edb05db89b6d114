// What a benchmark produces: figures, each with the reference it was compared against in the
// same run, the comparison (a ratio or a difference), its target and a verdict. Printed as a
// short table and written as JSON.

export type Verdict = "PASS" | "MISS" | "INFO" | "ERROR";

export interface Measured {
  /** The headline number (a median unless `what` says otherwise). */
  value: number;
  unit: string;
  /** What the headline is: "median of 40 runs", "requests/s, median of 4 rounds", ... */
  what: string;
  /** Other statistics shown next to the headline (p90, max, ...), same unit. */
  extra?: Record<string, number>;
}

export interface Comparison {
  /** `value / reference` ("ratio") or `value - reference` ("delta"). */
  kind: "ratio" | "delta";
  value: number;
  unit?: string;
}

export interface Target {
  op: "<=" | ">=" | "<";
  value: number;
}

export interface Figure {
  id: string;
  label: string;
  measured?: Measured;
  reference?: Measured & { label: string };
  comparison?: Comparison;
  target?: Target;
  verdict: Verdict;
  notes?: string[];
  /** Raw samples or anything else worth keeping in the JSON file. */
  data?: unknown;
  error?: string;
}

export function compare(kind: Comparison["kind"], value: number, reference: number, unit?: string): Comparison {
  return { kind, value: kind === "ratio" ? value / reference : value - reference, ...(unit ? { unit } : {}) };
}

export function verdictOf(comparison: Comparison | undefined, target: Target | undefined): Verdict {
  if (!comparison || !target) return "INFO";
  if (!Number.isFinite(comparison.value)) return "ERROR";
  const ok =
    target.op === "<=" ? comparison.value <= target.value : target.op === ">=" ? comparison.value >= target.value : comparison.value < target.value;
  return ok ? "PASS" : "MISS";
}

/** A figure from its parts, with the verdict computed. */
export function figure(parts: Omit<Figure, "verdict">): Figure {
  return { ...parts, verdict: verdictOf(parts.comparison, parts.target) };
}

export function errorFigure(id: string, label: string, error: unknown): Figure {
  const message = error instanceof Error ? error.message : String(error);
  return { id, label, verdict: "ERROR", error: message };
}

// --- formatting --------------------------------------------------------------------------

function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 10_000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function measuredText(m: Measured): string {
  const extra = Object.entries(m.extra ?? {})
    .map(([k, v]) => `${k} ${num(v)}`)
    .join(", ");
  return `${num(m.value)} ${m.unit}${extra ? ` (${extra})` : ""}`;
}

function comparisonText(c: Comparison | undefined): string {
  if (!c) return "-";
  if (c.kind === "ratio") return `${c.value.toFixed(2)}x`;
  return `${c.value >= 0 ? "+" : ""}${num(c.value)} ${c.unit ?? ""}`.trim();
}

function targetText(t: Target | undefined, c: Comparison | undefined): string {
  if (!t) return c ? "report" : "-";
  if (c?.kind === "delta") return `${t.op} ${t.value >= 0 && t.op !== ">=" ? "+" : ""}${t.value} ${c.unit ?? ""}`.trim();
  return `${t.op} ${t.value}x`;
}

export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) =>
    f.verdict === "ERROR"
      ? [f.label, `ERROR: ${f.error ?? "no value"}`, "", "", "", "ERROR"]
      : [
          f.label,
          f.measured ? measuredText(f.measured) : "-",
          f.reference ? `${f.reference.label}: ${measuredText(f.reference)}` : "-",
          comparisonText(f.comparison),
          targetText(f.target, f.comparison),
          f.verdict,
        ],
  );
  const header = ["figure", "measured", "reference (same run)", "vs ref", "target", "verdict"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** One line per note of every figure; with `how`, also how each figure was taken. */
export function renderNotes(figures: readonly Figure[], how = false): string {
  const lines: string[] = [];
  for (const f of figures) {
    if (how && f.measured) lines.push(`  ${f.label}: ${f.measured.what}${f.reference ? `; reference: ${f.reference.what}` : ""}`);
    for (const note of f.notes ?? []) lines.push(`  ${f.label}: ${note}`);
  }
  return lines.join("\n");
}
