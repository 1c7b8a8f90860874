/**
 * Mean ± sample standard deviation over seeds of `gist pipeline --json` results, as markdown tables laid out
 * like the paper's Tables 1/6 (test AUC, gAUC, logloss) and 3/5 (Recall@K).
 *
 *   node --import tsx scripts/seed-table.ts "MovieLens" ml-1.json ml-2.json ml-3.json [-- "Food–Kitchen" fk-1.json …]
 */
import * as fs from 'node:fs';
import type { PipelineResult } from '../src/core/pipeline/pipeline.js';

const groups: { name: string; files: string[] }[] = [];
for (const arg of process.argv.slice(2)) {
  if (arg === '--') continue;
  if (!arg.endsWith('.json')) groups.push({ name: arg, files: [] });
  else if (groups.length) groups[groups.length - 1].files.push(arg);
  else throw new Error('give a dataset name before its result files');
}

function stats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}
const cell = (xs: number[]): string => {
  const { mean, sd } = stats(xs);
  return `${mean.toFixed(4)} ± ${sd.toFixed(4)}`;
};

for (const g of groups) {
  const runs = g.files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as PipelineResult);
  const seeds = runs.map((r) => r.seed).join(', ');
  const out: string[] = [`### ${g.name} (seeds ${seeds}; mean ± sd)`, '', '| variant | AUC | gAUC | logloss | AUC gain vs DIN | AUC low-pop |', '| --- | --- | --- | --- | --- | --- |'];
  for (const variant of runs[0].table.map((t) => t.variant)) {
    const rows = runs.map((r) => r.table.find((t) => t.variant === variant)).filter((t) => t !== undefined);
    const col = (k: 'auc' | 'gauc' | 'logloss' | 'auc_gain_pct' | 'auc_low_popularity'): number[] => rows.map((t) => t[k]).filter((x): x is number => x !== null);
    const gain = stats(col('auc_gain_pct'));
    out.push(`| ${variant} | ${cell(col('auc'))} | ${cell(col('gauc'))} | ${cell(col('logloss'))} | ${gain.mean >= 0 ? '+' : ''}${gain.mean.toFixed(2)}% ± ${gain.sd.toFixed(2)} | ${cell(col('auc_low_popularity'))} |`);
  }
  if (runs[0].recall.length) {
    const ks = Object.keys(runs[0].recall[0].recall);
    const truth = stats(runs.map((r) => r.recall_truth_pairs ?? NaN));
    out.push('', `Recall@K, ESU pairs of valid/test samples as truth (θ ${runs[0].recall_theta}, ${truth.mean.toFixed(0)} pairs on average)`, '', `| embedding | ${ks.map((k) => `R@${k}`).join(' | ')} |`, `| --- | ${ks.map(() => '---').join(' | ')} |`);
    for (const name of runs[0].recall.map((r) => r.name)) {
      const per = ks.map((k) => runs.map((r) => r.recall.find((x) => x.name === name)?.recall[k]).filter((x): x is number => typeof x === 'number'));
      out.push(`| ${name} | ${per.map(cell).join(' | ')} |`);
    }
  }
  process.stdout.write(out.join('\n') + '\n\n');
}
