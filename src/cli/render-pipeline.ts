/** Terminal rendering of the pipeline's final comparison table (chalk lives here, not in core). */
import chalk from 'chalk';
import type { PipelineResult } from '../core/pipeline/pipeline.js';

const f4 = (x: number | null): string => (x === null || Number.isNaN(x) ? '—' : x.toFixed(4));
const pct = (x: number | null): string => (x === null || Number.isNaN(x) ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`);

function table(header: string[], rows: string[][], best: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [chalk.bold(line(header)), widths.map((wd) => '─'.repeat(wd)).join('  ')];
  rows.forEach((r, i) => out.push(best.includes(i) ? chalk.green.bold(line(r)) : line(r)));
  return out.join('\n');
}

export function renderPipelineTable(r: PipelineResult): string {
  const aucs = r.table.map((t) => t.auc ?? -1);
  const bestRow = aucs.indexOf(Math.max(...aucs));
  const parts = [
    '',
    chalk.bold(`Target CTR, test split (${r.work})`),
    table(
      ['variant', 'AUC', 'gAUC', 'logloss', 'AUC gain', 'AUC low-pop', 'AUC high-pop'],
      r.table.map((t) => [t.variant, f4(t.auc), f4(t.gauc), f4(t.logloss), pct(t.auc_gain_pct), f4(t.auc_low_popularity), f4(t.auc_high_popularity)]),
      [bestRow],
    ),
  ];
  if (r.oracle_test_auc !== null) parts.push(chalk.dim(`oracle AUC (true click probability): ${f4(r.oracle_test_auc)}`));
  if (r.recall.length) {
    const ks = Object.keys(r.recall[0].recall);
    parts.push('', chalk.bold(`Recall@K with ${r.recall_truth_pairs} ESU pairs (valid/test, θ ${r.recall_theta}) as truth`), table(['embedding', ...ks.map((k) => `R@${k}`)], r.recall.map((x) => [x.name, ...ks.map((k) => f4(x.recall[k] ?? null))])));
  }
  const pl = r.planted;
  if (pl && pl.gsu.length) {
    const at = (list: typeof pl.gsu, name: string, k: number): number | null => list.find((g) => g.name === name && g.k === k)?.subtopic ?? null;
    const best = (list: typeof pl.gsu, name: string): number | null => list.find((g) => g.name === name && g.k === 10)?.best_subtopic ?? null;
    const names = [...new Set(pl.gsu.map((g) => g.name))];
    const kMax = Math.max(...pl.gsu.map((g) => g.k));
    parts.push(
      '',
      chalk.bold('Planted truth: share of the GSU top K in the target item’s sub-topic (test split)'),
      table(['gsu', 'sub@10', `sub@${kMax}`, 'sub@10 clicked', 'best@10', 'best@10 clicked'], names.map((n) => [n, f4(at(pl.gsu, n, 10)), f4(at(pl.gsu, n, kMax)), f4(at(pl.gsu_clicked, n, 10)), f4(best(pl.gsu, n)), f4(best(pl.gsu_clicked, n))])),
    );
  }
  if (pl && pl.embeddings.length) {
    const ks = Object.keys(pl.embeddings[0].precision);
    parts.push('', chalk.bold('Planted truth: target items’ source neighbours in the same sub-topic'), table(['embedding', ...ks.map((k) => `P@${k}`), ...ks.map((k) => `R@${k}`)], pl.embeddings.map((e) => [e.name, ...ks.map((k) => f4(e.precision[k] ?? null)), ...ks.map((k) => f4(e.recall[k] ?? null))])));
  }
  for (const wmsg of r.warnings) parts.push(chalk.yellow(`warning: ${wmsg}`));
  parts.push('', `report: ${r.outputs.report}`, `metrics: ${r.outputs.metrics}`);
  return parts.join('\n');
}
