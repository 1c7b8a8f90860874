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
  const oracle = runs.map((r) => r.oracle_test_auc).filter((x): x is number => x !== null);
  if (oracle.length === runs.length) {
    out.push(`| oracle (true click probability) | ${cell(oracle)} | | | | |`);
    // Share of the DIN → oracle AUC gap each variant closes, per seed.
    out.push('', '| variant | share of the DIN → oracle gap closed | AUC − best baseline |', '| --- | --- | --- |');
    const baselines = ['din', 'sim-hard', 'sim-soft-pooling', 'sim-soft-attention'];
    for (const variant of runs[0].table.map((t) => t.variant)) {
      const closed = runs.map((r) => {
        const din = r.table.find((t) => t.variant === 'din')?.auc ?? NaN;
        const v = r.table.find((t) => t.variant === variant)?.auc ?? NaN;
        return (v - din) / ((r.oracle_test_auc as number) - din);
      });
      const margin = runs.map((r) => (r.table.find((t) => t.variant === variant)?.auc ?? NaN) - Math.max(...r.table.filter((t) => baselines.includes(t.variant)).map((t) => t.auc ?? -1)));
      const c = stats(closed);
      out.push(`| ${variant} | ${(100 * c.mean).toFixed(1)}% ± ${(100 * c.sd).toFixed(1)} | ${cell(margin)} |`);
    }
  }
  // Table 7: low/high-popularity AUC gains over SIM soft attention.
  if (runs.every((r) => r.table.some((t) => t.variant === 'sim-soft-attention'))) {
    out.push('', '| variant | low-pop AUC gain vs SIM soft attention | high-pop AUC gain vs SIM soft attention |', '| --- | --- | --- |');
    for (const variant of runs[0].table.map((t) => t.variant)) {
      const gains = (k: 'auc_low_popularity' | 'auc_high_popularity'): string => {
        const xs = runs.map((r) => {
          const base = r.table.find((t) => t.variant === 'sim-soft-attention')?.[k] ?? NaN;
          return (100 * ((r.table.find((t) => t.variant === variant)?.[k] ?? NaN) - base)) / base;
        });
        const g = stats(xs);
        return `${g.mean >= 0 ? '+' : ''}${g.mean.toFixed(2)}% ± ${g.sd.toFixed(2)}`;
      };
      out.push(`| ${variant} | ${gains('auc_low_popularity')} | ${gains('auc_high_popularity')} |`);
    }
  }
  if (runs.every((r) => r.planted && r.planted.gsu.length)) {
    const names = [...new Set(runs[0].planted!.gsu.map((g) => g.name))];
    const ks = [...new Set(runs[0].planted!.gsu.map((g) => g.k))];
    const pick = (r: PipelineResult, list: 'gsu' | 'gsu_clicked', name: string, k: number, f: 'subtopic' | 'best_subtopic'): number => r.planted![list].find((g) => g.name === name && g.k === k)?.[f] ?? NaN;
    out.push('', 'Planted truth (test split): share of the GSU top K in the target item’s sub-topic, over all samples and clicked samples', '', `| gsu | ${ks.map((k) => `all @${k} | clicked @${k}`).join(' | ')} | best clicked @10 |`, `| --- | ${ks.map(() => '--- | ---').join(' | ')} | --- |`);
    for (const n of names) out.push(`| ${n} | ${ks.map((k) => `${cell(runs.map((r) => pick(r, 'gsu', n, k, 'subtopic')))} | ${cell(runs.map((r) => pick(r, 'gsu_clicked', n, k, 'subtopic')))}`).join(' | ')} | ${cell(runs.map((r) => pick(r, 'gsu_clicked', n, 10, 'best_subtopic')))} |`);
    const emb = runs[0].planted!.embeddings;
    if (emb.length) {
      const eks = Object.keys(emb[0].precision);
      out.push('', 'Planted truth: share of a target item’s top K source-domain neighbours in its sub-topic (P@K)', '', `| embedding | ${eks.map((k) => `P@${k}`).join(' | ')} |`, `| --- | ${eks.map(() => '---').join(' | ')} |`);
      for (const e of emb) out.push(`| ${e.name} | ${eks.map((k) => cell(runs.map((r) => r.planted!.embeddings.find((x) => x.name === e.name)?.precision[k] ?? NaN))).join(' | ')} |`);
    }
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
