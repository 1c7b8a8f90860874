/**
 * The evaluation as plain tables (strings only): shared by the terminal renderer, `--markdown` and the
 * HTML report, so all three show the same numbers with the same formatting.
 */
import { gateMessage } from './gate.js';
import type { EvaluateResult, PlantedMetrics } from './result.js';

export type Align = 'left' | 'right';

export interface TableData {
  /** stable id: ctr | popularity | recall | gsu */
  id: string;
  title: string;
  headers: string[];
  align: Align[];
  rows: string[][];
  /** [row, column] cells holding a column's best value (ties all marked) */
  best: [number, number][];
  note?: string;
}

export function fmtNum(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

export function fmtGain(x: number | null | undefined, isBaseline: boolean): string {
  if (isBaseline) return '-';
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return `${x >= 0 ? '+' : ''}${x.toFixed(3)}%`;
}

/** A paired AUC difference against the baseline with its 95% interval, e.g. "+0.0123 [+0.0050, +0.0196]". */
export function fmtDiff(t: { diff: number; ci95: [number, number] } | null | undefined, isBaseline: boolean): string {
  if (isBaseline) return '-';
  if (!t) return 'n/a';
  const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
  return `${signed(t.diff)} [${signed(t.ci95[0])}, ${signed(t.ci95[1])}]`;
}

/** A p-value to two significant digits, "<0.001" below that. */
export function fmtP(p: number | null | undefined, isBaseline: boolean): string {
  if (isBaseline) return '-';
  if (p === null || p === undefined || !Number.isFinite(p)) return 'n/a';
  return p < 0.001 ? '<0.001' : p.toPrecision(2);
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Cells of column `col` holding the highest value (only when there is more than one row to compare). */
function bestCells(values: (number | null | undefined)[], col: number): [number, number][] {
  const finite = values.filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  if (values.length < 2 || finite.length === 0) return [];
  const top = Math.max(...finite);
  return values.flatMap((v, i): [number, number][] => (v === top ? [[i, col]] : []));
}

export function isBest(t: TableData, row: number, col: number): boolean {
  return t.best.some(([r, c]) => r === row && c === col);
}

/** Every table the result has data for, in display order. */
export function resultTables(result: EvaluateResult): TableData[] {
  const tables: TableData[] = [];
  const isBase = (name: string): boolean => name === result.baseline;
  if (result.runs.length) {
    tables.push({
      id: 'ctr',
      title: `CTR metrics (${result.split} split)`,
      headers: ['run', 'AUC', 'gAUC', 'logloss', 'AUC gain', `AUC − ${result.baseline} [95% CI]`, 'p', 'samples', 'positives'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      rows: result.runs.map((r) => {
        const b = isBase(r.name);
        return [r.name, fmtNum(r.auc), fmtNum(r.gauc), fmtNum(r.logloss), fmtGain(r.auc_gain_pct, b), fmtDiff(r.auc_vs_baseline, b), fmtP(r.auc_vs_baseline?.p, b), fmtInt(r.n), fmtInt(r.positives)];
      }),
      best: bestCells(result.runs.map((r) => r.auc), 1),
      note: `AUC gain = (AUC − AUC of ${result.baseline}) / AUC of ${result.baseline}. AUC − ${result.baseline}: DeLong's paired test on the same samples (95% interval, two-sided p). gAUC: users with both labels, weighted by samples.`,
    });
  }
  const withPop = result.runs.filter((r) => r.popularity);
  if (withPop.length) {
    const t = withPop[0].popularity!.threshold;
    tables.push({
      id: 'popularity',
      title: 'AUC by item popularity',
      headers: ['run', 'low AUC', 'high AUC', 'low gain', 'high gain', 'overall gain', 'low n', 'high n'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      rows: withPop.map((r) => {
        const p = r.popularity!;
        const b = isBase(r.name);
        return [r.name, fmtNum(p.low.auc), fmtNum(p.high.auc), fmtGain(p.low.auc_gain_pct, b), fmtGain(p.high.auc_gain_pct, b), fmtGain(r.auc_gain_pct, b), fmtInt(p.low.n), fmtInt(p.high.n)];
      }),
      best: [...bestCells(withPop.map((r) => r.popularity!.low.auc), 1), ...bestCells(withPop.map((r) => r.popularity!.high.auc), 2)],
      note: `low-interaction: items with fewer than ${t} target-domain training interactions; high-interaction: ${t} or more. Gains relative to ${result.baseline} within each group (paper Table 7).`,
    });
  }
  if (result.recall.length) {
    const ks = [...new Set(result.recall.flatMap((r) => Object.keys(r.recall)))].sort((a, b) => Number(a) - Number(b));
    tables.push({
      id: 'recall',
      title: 'Recall@K of embeddings (exact cosine)',
      headers: ['embeddings', ...ks.map((k) => `Recall@${k}`), 'pairs', 'candidates'],
      align: ['left', ...ks.map((): Align => 'right'), 'right', 'right'],
      rows: result.recall.map((r) => [r.name, ...ks.map((k) => fmtNum(r.recall[k])), fmtInt(r.pairs), fmtInt(r.candidates)]),
      best: ks.flatMap((k, j) => bestCells(result.recall.map((r) => r.recall[k]), j + 1)),
      note: `Truth: ${result.recall[0].truth === 'all' ? 'all pairs' : 'valid and test pairs'}; the query item itself is never a candidate.`,
    });
  }
  if (result.planted) tables.push(...plantedTables(result.planted));
  if (result.gsu.length) {
    tables.push({
      id: 'gsu',
      title: 'GSU similarity scores',
      headers: ['gsu', 'samples', 'scores', 'mean', 'min', 'max'],
      align: ['left', 'right', 'right', 'right', 'right', 'right'],
      rows: result.gsu.map((g) => [g.name, fmtInt(g.samples), fmtInt(g.scores), fmtNum(g.mean), fmtNum(g.min), fmtNum(g.max)]),
      best: [],
    });
  }
  return tables;
}

/** The planted-truth tables (synthetic data): GSU sub-topic shares and embeddings' planted neighbours. */
export function plantedTables(pl: PlantedMetrics): TableData[] {
  const tables: TableData[] = [];
  if (pl.gsu.length) {
    const ks = [...new Set(pl.gsu.map((g) => g.k))];
    const names = [...new Set(pl.gsu.map((g) => g.name))];
    const cell = (list: typeof pl.gsu, name: string, k: number, f: 'subtopic' | 'best_subtopic' | 'topic'): number | undefined => list.find((g) => g.name === name && g.k === k)?.[f];
    const cols = ks.flatMap((k) => [`sub@${k}`, `sub@${k} clicked`]);
    tables.push({
      id: 'planted-gsu',
      title: 'GSU against planted truth: share of the top K in the target item’s sub-topic',
      headers: ['gsu', ...cols, 'topic@10', 'best sub@10', 'best sub@10 clicked'],
      align: ['left', ...cols.map((): Align => 'right'), 'right', 'right', 'right'],
      rows: names.map((n) => [n, ...ks.flatMap((k) => [fmtNum(cell(pl.gsu, n, k, 'subtopic'), 3), fmtNum(cell(pl.gsu_clicked, n, k, 'subtopic'), 3)]), fmtNum(cell(pl.gsu, n, 10, 'topic'), 3), fmtNum(cell(pl.gsu, n, 10, 'best_subtopic'), 3), fmtNum(cell(pl.gsu_clicked, n, 10, 'best_subtopic'), 3)]),
      best: ks.flatMap((k, j) => [...bestCells(names.map((n) => cell(pl.gsu, n, k, 'subtopic')), 1 + 2 * j), ...bestCells(names.map((n) => cell(pl.gsu_clicked, n, k, 'subtopic')), 2 + 2 * j)]),
      note: 'Synthetic data: planted sub-topics (planted.arrow, read by no model). Share over the searched events; best = the most the user’s history before the sample allows.',
    });
  }
  if (pl.embeddings.length) {
    const ks = Object.keys(pl.embeddings[0].precision);
    tables.push({
      id: 'planted-neighbours',
      title: 'Embeddings against planted truth: target items’ source-domain neighbours in the same sub-topic',
      headers: ['embeddings', ...ks.map((k) => `P@${k}`), ...ks.map((k) => `R@${k}`), 'queries'],
      align: ['left', ...ks.map((): Align => 'right'), ...ks.map((): Align => 'right'), 'right'],
      rows: pl.embeddings.map((e) => [e.name, ...ks.map((k) => fmtNum(e.precision[k], 3)), ...ks.map((k) => fmtNum(e.recall[k], 3)), fmtInt(e.queries)]),
      best: ks.flatMap((k, j) => [...bestCells(pl.embeddings.map((e) => e.precision[k]), 1 + j), ...bestCells(pl.embeddings.map((e) => e.recall[k]), 1 + ks.length + j)]),
      note: 'P@K: share of the top K source items (exact cosine) in the query’s planted sub-topic; R@K: share of that sub-topic’s source items found.',
    });
  }
  return tables;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** GitHub-flavoured markdown: one `###` section per table, best values bold, then the gate verdict. */
export function toMarkdown(result: EvaluateResult): string {
  const out: string[] = [];
  for (const t of resultTables(result)) {
    out.push(`### ${t.title}`, '');
    out.push(`| ${t.headers.map(mdCell).join(' | ')} |`);
    out.push(`|${t.align.map((a) => (a === 'right' ? ' ---: ' : ' :--- ')).join('|')}|`);
    t.rows.forEach((row, i) => {
      const cells = row.map((c, j) => (isBest(t, i, j) ? `**${mdCell(c)}**` : mdCell(c)));
      out.push(`| ${cells.join(' | ')} |`);
    });
    if (t.note) out.push('', `_${t.note}_`);
    out.push('');
  }
  if (result.gate) {
    out.push(`**${result.gate.passed ? 'Gate passed' : 'Gate FAILED'}:** ${mdCell(gateMessage(result.gate))}`);
    for (const f of result.gate.failures) out.push(`- ${mdCell(f.message)}`);
    out.push('');
  }
  return out.join('\n');
}
