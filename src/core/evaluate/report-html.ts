/**
 * The evaluation report: one self-contained HTML page (inline CSS and SVG, no scripts, no network; a
 * Content-Security-Policy forbids any fetch) with the summary tables and the charts: ROC curves, AUC by
 * item popularity, Recall@K curves, GSU score histograms and training curves.
 */
import { barChart, emptyChart, esc, histogram, lineChart, niceDomain, PALETTE, type Series } from './charts.js';
import { gateMessage } from './gate.js';
import type { Curve } from './inputs.js';
import type { EvaluateResult } from './result.js';
import { isBest, resultTables, type TableData } from './tables.js';

export interface ReportData {
  result: EvaluateResult;
  roc: { name: string; fpr: Float64Array; tpr: Float64Array }[];
  /** recall at each K of `ks`; `marked` are the K values reported in the tables */
  recallCurves: { name: string; ks: number[]; recall: number[]; marked: number[] }[];
  /** shared bin edges across GSU files; counts per bin */
  gsuHist: { name: string; edges: number[]; counts: number[]; mean: number | null }[];
  ctrCurves: { name: string; curve: Curve }[];
  embeddingCurves: { name: string; curve: Curve }[];
  version: string;
  /** Header facts: the dataset (--data), the command line that made the report, when. */
  header: { dataset: string | null; commandLine: string | null; date: string };
}

/** Chart kinds the report always contains (a placeholder when its input is missing). */
export const REPORT_CHART_KINDS = ['roc', 'popularity', 'recall', 'gsu-hist', 'curves'] as const;

function colorMap(d: ReportData): (name: string) => string {
  const map = new Map<string, string>();
  const names = [
    ...d.result.runs.map((r) => r.name),
    ...d.result.recall.map((r) => r.name),
    ...d.result.gsu.map((g) => g.name),
    ...d.embeddingCurves.map((c) => c.name),
  ];
  for (const n of names) if (!map.has(n)) map.set(n, PALETTE[map.size % PALETTE.length]);
  return (name) => map.get(name) ?? PALETTE[0];
}

function rocChart(d: ReportData, color: (n: string) => string): string {
  const frame = { kind: 'roc', title: `ROC curves (${d.result.split} split)`, subtitle: 'True vs false positive rate over all score thresholds' };
  if (!d.roc.length) return emptyChart(frame, 'No predictions given: pass one or more predictions.arrow files');
  const aucOf = new Map(d.result.runs.map((r) => [r.name, r.auc]));
  const series: Series[] = d.roc.map((r) => ({ name: `${r.name} (AUC ${aucOf.get(r.name)?.toFixed(4) ?? 'n/a'})`, color: color(r.name), x: r.fpr, y: r.tpr }));
  return lineChart({
    ...frame,
    height: 400,
    x: { label: 'False positive rate', min: 0, max: 1 },
    y: { label: 'True positive rate', min: 0, max: 1 },
    series,
    legend: 'bottom-right',
    references: [{ x1: 0, y1: 0, x2: 1, y2: 1 }],
  });
}

function popularityChart(d: ReportData, color: (n: string) => string): string {
  const frame = { kind: 'popularity', title: 'AUC by item popularity' };
  const runs = d.result.runs.filter((r) => r.popularity);
  if (!runs.length) return emptyChart({ ...frame, height: 400 }, 'No item popularity: pass --data DIR (the prepared dataset)');
  const t = runs[0].popularity!.threshold;
  const categories = [`low-interaction (< ${t})`, `high-interaction (≥ ${t})`, 'overall'];
  const others = runs.filter((r) => r.name !== d.result.baseline);
  if (others.length && runs.some((r) => r.name === d.result.baseline)) {
    // Paper Table 7: relative AUC gain over the baseline run within each group.
    const series = others.map((r) => ({ name: r.name, color: color(r.name), values: [r.popularity!.low.auc_gain_pct, r.popularity!.high.auc_gain_pct, r.auc_gain_pct] }));
    const vals = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
    const [lo, hi] = niceDomain(Math.min(0, ...vals), Math.max(0, ...vals) * 1.15 || 0.1);
    return barChart({
      ...frame,
      height: 400,
      subtitle: `AUC gain over ${d.result.baseline} per item group; threshold = ${t} target-domain interactions`,
      categories,
      series,
      y: { label: `AUC gain vs ${d.result.baseline} (%)`, min: lo, max: hi, format: (v) => `${v.toFixed(Math.abs(hi - lo) < 1 ? 2 : 1)}%` },
      valueLabel: (v) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}%`,
      legend: 'top-right',
    });
  }
  const series = runs.map((r) => ({ name: r.name, color: color(r.name), values: [r.popularity!.low.auc, r.popularity!.high.auc, r.auc] }));
  return barChart({
    ...frame,
    height: 400,
    subtitle: `AUC per item group; threshold = ${t} target-domain interactions`,
    categories,
    series,
    y: { label: 'AUC', min: 0, max: 1 },
    valueLabel: (v) => v.toFixed(4),
    legend: 'top-right',
  });
}

function recallChart(d: ReportData, color: (n: string) => string): string {
  const frame = { kind: 'recall', title: 'Recall@K of embeddings', subtitle: 'Exact cosine top-K; truth = guidance pairs' };
  if (!d.recallCurves.length) return emptyChart(frame, 'No Recall@K: pass --embeddings NAME=file.arrow and --pairs pairs.arrow');
  const maxK = Math.max(...d.recallCurves.flatMap((c) => c.ks));
  const top = Math.max(...d.recallCurves.flatMap((c) => c.recall.filter(Number.isFinite)), 0.01);
  const yMax = Math.min(1, niceDomain(0, top * 1.05)[1]);
  const series: Series[] = d.recallCurves.map((c) => ({
    name: c.name,
    color: color(c.name),
    x: c.ks,
    y: c.recall,
    markAt: c.ks.flatMap((k, i) => (c.marked.includes(k) ? [i] : [])),
    pointTitle: (i) => `${c.name}: Recall@${c.ks[i]} = ${c.recall[i].toFixed(4)}`,
  }));
  return lineChart({
    ...frame,
    x: { label: 'K (log scale)', min: 1, max: maxK, log: true, format: (v) => (v >= 1000 ? `${v / 1000}k` : String(v)) },
    y: { label: 'Recall@K', min: 0, max: yMax },
    series,
    legend: 'top-left',
  });
}

function gsuCharts(d: ReportData, color: (n: string) => string): string[] {
  const frame = { kind: 'gsu-hist', title: 'GSU similarity scores' };
  if (!d.gsuHist.length) return [emptyChart(frame, 'No GSU scores: pass --gsu NAME=gsu.arrow')];
  return d.gsuHist.map((g) => {
    const lo = g.edges[0];
    const hi = g.edges[g.edges.length - 1];
    const s = d.result.gsu.find((x) => x.name === g.name);
    return histogram({
      ...frame,
      attrs: { 'data-name': g.name },
      title: `GSU similarity scores: ${g.name}`,
      subtitle: s ? `${s.scores.toLocaleString('en-US')} searched events over ${s.samples.toLocaleString('en-US')} samples` : undefined,
      edges: g.edges,
      counts: g.counts,
      color: color(g.name),
      x: { label: 'similarity score of a searched event', min: lo, max: hi },
      yLabel: 'share of searched events (%)',
      markers: g.mean === null ? [] : [{ x: g.mean, label: `mean ${g.mean.toFixed(3)}` }],
    });
  });
}

function curveChart(kind: string, title: string, subtitle: string, list: { name: string; curve: Curve }[], pick: (c: Curve) => number[], yLabel: string, color: (n: string) => string): string | null {
  const series: Series[] = list
    .map(({ name, curve }) => ({ name, color: color(name), x: curve.x, y: pick(curve), markers: curve.x.length <= 30, pointTitle: (i: number) => `${name}: ${curve.xLabel} ${curve.x[i]}, ${yLabel} ${pick(curve)[i].toFixed(4)}` }))
    .filter((s) => s.y.some(Number.isFinite));
  if (!series.length) return null;
  const xs = series.flatMap((s) => Array.from(s.x)).filter(Number.isFinite);
  const ys = series.flatMap((s) => Array.from(s.y)).filter(Number.isFinite);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = niceDomain(Math.min(...ys), Math.max(...ys));
  const xLabel = list[0].curve.xLabel;
  return lineChart({
    kind: 'curves',
    attrs: { 'data-series': kind },
    title,
    subtitle,
    x: { label: xLabel, min: x0, max: x1 > x0 ? x1 : x0 + 1, integer: true, format: (v) => v.toLocaleString('en-US') },
    y: { label: yLabel, min: y0, max: y1 },
    series,
    legend: kind.endsWith('auc') ? 'bottom-right' : 'top-right',
  });
}

function trainingCharts(d: ReportData, color: (n: string) => string): string[] {
  const charts = [
    curveChart('ctr-loss', 'CTR training loss', 'From curve.json beside each predictions.arrow', d.ctrCurves, (c) => c.loss, 'training loss', color),
    curveChart('ctr-valid-auc', 'CTR validation AUC', 'From curve.json beside each predictions.arrow', d.ctrCurves, (c) => c.validAuc, 'validation AUC', color),
    // InfoNCE losses of different models (batch sizes, pair sets) have different scales: one chart each.
    ...d.embeddingCurves.map((e) => curveChart('embedding-loss', `Embedding training loss: ${e.name}`, 'From loss_curve.json beside the embeddings file', [e], (c) => c.loss, 'training loss', color)),
  ].filter((c): c is string => c !== null);
  if (charts.length) return charts;
  return [emptyChart({ kind: 'curves', title: 'Training curves' }, 'No curve.json beside predictions nor loss_curve.json beside embeddings')];
}

function tableHtml(t: TableData, baseline: string | null): string {
  const head = t.headers.map((h, j) => `<th class="${t.align[j]}">${esc(h)}</th>`).join('');
  const body = t.rows
    .map((row, i) => {
      const cells = row.map((c, j) => {
        const best = isBest(t, i, j);
        const tag = j === 0 && c === baseline && (t.id === 'ctr' || t.id === 'popularity') ? ' <span class="tag">baseline</span>' : '';
        return `<td class="${t.align[j]}${best ? ' best' : ''}">${esc(c)}${tag}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<div class="table" data-table="${esc(t.id)}"><h3>${esc(t.title)}</h3><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${t.note ? `<p class="note">${esc(t.note)}</p>` : ''}</div>`;
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: #1f2328; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
header { background: #ffffff; border-bottom: 1px solid #d0d7de; padding: 18px 32px; display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 22px; margin: 0; }
header .meta { color: #57606a; }
header .command { flex-basis: 100%; overflow-wrap: anywhere; }
.badge { padding: 3px 10px; border-radius: 12px; font-weight: 600; font-size: 12.5px; }
.badge.pass { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
.badge.fail { background: #ffebe9; color: #a40e26; border: 1px solid #ff8182; }
main { max-width: 1240px; margin: 0 auto; padding: 8px 24px 32px; }
section { margin-top: 22px; }
h2 { font-size: 17px; margin: 0 0 10px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 6px; }
.tables { display: grid; grid-template-columns: 1fr; gap: 12px; }
.table { background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 14px; overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 14px; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
th { font-weight: 600; background: #f6f8fa; }
.left { text-align: left; } .right { text-align: right; }
td.best { font-weight: 700; color: #116329; background: #dafbe1; }
.tag { font-size: 11px; color: #57606a; border: 1px solid #d0d7de; border-radius: 8px; padding: 0 6px; margin-left: 4px; }
.note { color: #57606a; font-size: 12.5px; margin: 6px 0 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
figure svg { display: block; width: 100%; height: auto; }
.gate { background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; }
.gate p { margin: 0; }
.gate ul { margin: 6px 0 0; }
.gate.pass { border-color: #4ac26b; background: #f6fff8; color: #116329; }
.gate.fail { border-color: #ff8182; background: #fff8f7; color: #a40e26; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 14px; }
ul.inputs { margin: 0; padding-left: 20px; color: #57606a; font-size: 12.5px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
footer { color: #57606a; font-size: 12px; text-align: center; padding: 16px; }
`;

/** The whole report page. */
export function renderReportHtml(d: ReportData): string {
  const r = d.result;
  const color = colorMap(d);
  const fig = (svg: string): string => `<figure>${svg}</figure>`;
  const gate = r.gate
    ? `<section id="gate"><h2>Regression gate</h2><div class="gate ${r.gate.passed ? 'pass' : 'fail'}"><p><strong>${r.gate.passed ? '✔' : '✘'}</strong> ${esc(gateMessage(r.gate))}</p>${
        r.gate.failures.length ? `<ul>${r.gate.failures.map((f) => `<li>${esc(f.message)}</li>`).join('')}</ul>` : ''
      }</div></section>`
    : '';
  const badge = r.gate ? `<span class="badge ${r.gate.passed ? 'pass' : 'fail'}">gate ${r.gate.passed ? 'passed' : 'failed'}</span>` : '';
  const warnings = r.warnings.length ? `<section id="warnings"><div class="warn">${r.warnings.map((w) => `<div>${esc(w)}</div>`).join('')}</div></section>` : '';
  const inputs = [
    ...r.runs.map((x) => `<li><strong>${esc(x.name)}</strong>: <code>${esc(x.file)}</code></li>`),
    ...r.recall.map((x) => `<li><strong>${esc(x.name)}</strong> (embeddings): <code>${esc(x.file)}</code></li>`),
    ...r.gsu.map((x) => `<li><strong>${esc(x.name)}</strong> (GSU): <code>${esc(x.file)}</code></li>`),
  ].join('');
  const meta = [d.header.dataset ? `data ${d.header.dataset}` : null, `${r.split} split`, r.baseline ? `baseline run ${r.baseline}` : null, `gist ${d.version}`].filter(Boolean).join(' · ');
  const made = `<span class="meta"><time datetime="${esc(d.header.date)}">${esc(d.header.date.slice(0, 16).replace('T', ' '))} UTC</time></span>${
    d.header.commandLine ? `<div class="meta command"><code>${esc(d.header.commandLine)}</code></div>` : ''
  }`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>gist evaluate · ${esc(r.split)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>gist evaluate</h1><span class="meta">${esc(meta)}</span>${made}${badge}</header>
<main>
${warnings}
${gate}
<section id="summary"><h2>Summary</h2><div class="tables">
${resultTables(r)
  .map((t) => tableHtml(t, r.baseline))
  .join('\n')}
</div></section>
<section id="ctr"><h2>CTR models</h2><div class="grid">
${fig(rocChart(d, color))}
${fig(popularityChart(d, color))}
</div></section>
<section id="retrieval"><h2>Retrieval</h2><div class="grid">
${fig(recallChart(d, color))}
${gsuCharts(d, color).map(fig).join('\n')}
</div></section>
<section id="training"><h2>Training curves</h2><div class="grid">
${trainingCharts(d, color).map(fig).join('\n')}
</div></section>
<section id="inputs"><h2>Inputs</h2><ul class="inputs">${inputs}</ul></section>
</main>
<footer>Generated by gist ${esc(d.version)} (<code>gist evaluate</code>). Self-contained: inline SVG, no scripts, no network.</footer>
</body>
</html>
`;
}
