/** Terminal rendering of the pipeline's final comparison table (chalk lives here, not in core). */
import chalk from 'chalk';
import type { PipelineResult } from '../core/pipeline/pipeline.js';
import { plantedTables } from '../core/evaluate/tables.js';
import { renderTable } from './render-evaluate.js';

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
  if (r.planted) for (const t of plantedTables(r.planted)) parts.push('', renderTable(t, null));
  for (const wmsg of r.warnings) parts.push(chalk.yellow(`warning: ${wmsg}`));
  parts.push('', `report: ${r.outputs.report}`, `metrics: ${r.outputs.metrics}`);
  return parts.join('\n');
}
