/**
 * Hand-written inline SVG charts for the evaluation report (no chart library, no scripts, no network):
 * line charts (linear or log x), grouped bars and histograms. Every chart is one `<svg data-chart=KIND>`
 * with a title, labelled axes, gridlines, a legend and `<title>` tooltips. Non-finite coordinates are a
 * bug (the browser would log an SVG error), so they are dropped before drawing.
 */

/** Okabe–Ito colour-blind-safe palette (yellow left out: unreadable on white). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#8C564B', '#595959'];

export interface Axis {
  label: string;
  min: number;
  max: number;
  /** base-10 log scale (min must be > 0) */
  log?: boolean;
  /** ticks only at whole numbers (epochs, steps) */
  integer?: boolean;
  /** explicit tick positions; default: nice linear ticks or powers of ten */
  ticks?: number[];
  format?: (v: number) => string;
}

export interface Series {
  name: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  dash?: string;
  /** draw a dot at every point (few points: epochs) */
  markers?: boolean;
  /** draw dots only at these point indices (e.g. the reported K values) */
  markAt?: number[];
  /** tooltip text per point */
  pointTitle?: (i: number) => string;
}

export type LegendPos = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface ChartFrame {
  /** value of data-chart (roc, recall, gsu-hist, curves, popularity) */
  kind: string;
  /** extra attributes, e.g. { 'data-series': 'ctr-loss' } */
  attrs?: Record<string, string>;
  title: string;
  subtitle?: string;
  width?: number;
  height?: number;
}

export interface LineChartSpec extends ChartFrame {
  x: Axis;
  y: Axis;
  series: Series[];
  legend?: LegendPos;
  /** dashed grey reference segments, e.g. the ROC diagonal */
  references?: { x1: number; y1: number; x2: number; y2: number; label?: string }[];
}

export interface BarChartSpec extends ChartFrame {
  categories: string[];
  series: { name: string; color: string; values: (number | null)[] }[];
  y: Axis;
  legend?: LegendPos;
  /** text printed on each bar */
  valueLabel?: (v: number) => string;
}

export interface HistogramSpec extends ChartFrame {
  edges: number[];
  counts: number[];
  color: string;
  x: Axis;
  yLabel: string;
  /** vertical marker lines (e.g. the mean) */
  markers?: { x: number; label: string }[];
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif';
/** White outline behind labels drawn over data. */
const HALO = ' paint-order="stroke" stroke="#ffffff" stroke-width="3" stroke-linejoin="round"';
const MARGIN = { left: 64, right: 20, top: 54, bottom: 52 };

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate for an SVG attribute; throws on non-finite values (a bug upstream, never silently drawn). */
function n(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`chart coordinate is not finite: ${v}`);
  return (Math.round(v * 10) / 10).toString();
}

function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

/** Round a data range outwards to nice tick steps; a degenerate range is widened. */
export function niceDomain(lo: number, hi: number, target = 5): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, target);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

function linearTicks(lo: number, hi: number, target = 5, integer = false): number[] {
  const step = integer ? Math.max(1, niceStep(hi - lo, target)) : niceStep(hi - lo, target);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function defaultFormat(ticks: number[]): (v: number) => string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return (v) => v.toFixed(digits);
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi * (1 + 1e-9); e++) if (10 ** e >= lo * (1 - 1e-9)) out.push(10 ** e);
  return out;
}

interface Plot {
  w: number;
  h: number;
  px: (v: number) => number;
  py: (v: number) => number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function scale(axis: Axis, a: number, b: number): (v: number) => number {
  if (axis.log) {
    const lo = Math.log10(axis.min);
    const hi = Math.log10(axis.max);
    return (v) => a + ((Math.log10(Math.max(v, axis.min)) - lo) / (hi - lo || 1)) * (b - a);
  }
  return (v) => a + ((v - axis.min) / (axis.max - axis.min || 1)) * (b - a);
}

function plotArea(frame: ChartFrame, x: Axis, y: Axis): Plot {
  const w = frame.width ?? 560;
  const h = frame.height ?? 360;
  const x0 = MARGIN.left;
  const x1 = w - MARGIN.right;
  const y0 = h - MARGIN.bottom;
  const y1 = MARGIN.top;
  return { w, h, x0, x1, y0, y1, px: scale(x, x0, x1), py: scale(y, y0, y1) };
}

function open(frame: ChartFrame, p: { w: number; h: number }): string[] {
  const attrs = Object.entries(frame.attrs ?? {})
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  const out = [
    `<svg data-chart="${esc(frame.kind)}"${attrs} viewBox="0 0 ${p.w} ${p.h}" width="${p.w}" height="${p.h}" role="img" aria-label="${esc(frame.title)}" font-family='${FONT}'>`,
    `<rect x="0" y="0" width="${p.w}" height="${p.h}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="600" fill="#1f2328">${esc(frame.title)}</text>`,
  ];
  if (frame.subtitle) out.push(`<text x="${MARGIN.left}" y="40" font-size="11.5" fill="#57606a">${esc(frame.subtitle)}</text>`);
  return out;
}

function axes(p: Plot, x: Axis, y: Axis, xTicks: number[], yTicks: number[], opts: { xCategory?: boolean } = {}): string[] {
  const out: string[] = [];
  const fx = x.format ?? defaultFormat(xTicks);
  const fy = y.format ?? defaultFormat(yTicks);
  for (const t of yTicks) {
    const yy = p.py(t);
    out.push(`<line x1="${n(p.x0)}" y1="${n(yy)}" x2="${n(p.x1)}" y2="${n(yy)}" stroke="#d8dee4" stroke-width="1"/>`);
    out.push(`<text x="${n(p.x0 - 8)}" y="${n(yy + 4)}" font-size="11" fill="#57606a" text-anchor="end">${esc(fy(t))}</text>`);
  }
  if (x.log) {
    // light minor gridlines at 2..9 × 10^k
    for (let e = Math.floor(Math.log10(x.min)); 10 ** e < x.max; e++) {
      for (let m = 2; m < 10; m++) {
        const v = m * 10 ** e;
        if (v > x.min && v < x.max) out.push(`<line x1="${n(p.px(v))}" y1="${n(p.y1)}" x2="${n(p.px(v))}" y2="${n(p.y0)}" stroke="#eef1f4" stroke-width="1"/>`);
      }
    }
  }
  if (!opts.xCategory) {
    for (const t of xTicks) {
      const xx = p.px(t);
      out.push(`<line x1="${n(xx)}" y1="${n(p.y1)}" x2="${n(xx)}" y2="${n(p.y0)}" stroke="#d8dee4" stroke-width="1"/>`);
      out.push(`<text x="${n(xx)}" y="${n(p.y0 + 17)}" font-size="11" fill="#57606a" text-anchor="middle">${esc(fx(t))}</text>`);
    }
  }
  out.push(`<rect x="${n(p.x0)}" y="${n(p.y1)}" width="${n(p.x1 - p.x0)}" height="${n(p.y0 - p.y1)}" fill="none" stroke="#8c959f" stroke-width="1"/>`);
  out.push(`<text x="${n((p.x0 + p.x1) / 2)}" y="${n(p.h - 12)}" font-size="12.5" fill="#1f2328" text-anchor="middle">${esc(x.label)}</text>`);
  const cy = (p.y0 + p.y1) / 2;
  out.push(`<text x="16" y="${n(cy)}" font-size="12.5" fill="#1f2328" text-anchor="middle" transform="rotate(-90 16 ${n(cy)})">${esc(y.label)}</text>`);
  return out;
}

function legend(p: Plot, items: { name: string; color: string; dash?: string; box?: boolean }[], pos: LegendPos): string[] {
  if (items.length === 0) return [];
  const rowH = 18;
  const width = Math.min(p.x1 - p.x0 - 16, 34 + 6.6 * Math.max(...items.map((i) => i.name.length)));
  const height = 10 + rowH * items.length;
  const left = pos.endsWith('left') ? p.x0 + 8 : p.x1 - 8 - width;
  const top = pos.startsWith('top') ? p.y1 + 8 : p.y0 - 8 - height;
  const out = [`<g class="legend"><rect x="${n(left)}" y="${n(top)}" width="${n(width)}" height="${n(height)}" rx="4" fill="#ffffff" fill-opacity="0.92" stroke="#d0d7de"/>`];
  items.forEach((it, i) => {
    const y = top + 14 + i * rowH;
    if (it.box) out.push(`<rect x="${n(left + 8)}" y="${n(y - 6)}" width="16" height="10" fill="${it.color}"/>`);
    else out.push(`<line x1="${n(left + 8)}" y1="${n(y - 1)}" x2="${n(left + 24)}" y2="${n(y - 1)}" stroke="${it.color}" stroke-width="2.5"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/>`);
    out.push(`<text x="${n(left + 30)}" y="${n(y + 3)}" font-size="11.5" fill="#1f2328">${esc(it.name)}</text>`);
  });
  out.push('</g>');
  return out;
}

/** A line chart with one line per series; points with a non-finite coordinate are skipped. */
export function lineChart(spec: LineChartSpec): string {
  const p = plotArea(spec, spec.x, spec.y);
  const xTicks = spec.x.ticks ?? (spec.x.log ? logTicks(spec.x.min, spec.x.max) : linearTicks(spec.x.min, spec.x.max, 6, spec.x.integer));
  const yTicks = spec.y.ticks ?? linearTicks(spec.y.min, spec.y.max);
  const out = open(spec, p);
  out.push(...axes(p, spec.x, spec.y, xTicks, yTicks));
  for (const r of spec.references ?? []) {
    out.push(`<line x1="${n(p.px(r.x1))}" y1="${n(p.py(r.y1))}" x2="${n(p.px(r.x2))}" y2="${n(p.py(r.y2))}" stroke="#8c959f" stroke-width="1.2" stroke-dasharray="5 4"/>`);
  }
  for (const s of spec.series) {
    const pts: [number, number, number][] = [];
    for (let i = 0; i < s.x.length; i++) if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i])) pts.push([p.px(s.x[i]), p.py(s.y[i]), i]);
    if (pts.length === 0) continue;
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${n(x)} ${n(y)}`).join('');
    out.push(`<g class="series"><path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.name)}</title></path>`);
    if (s.markers || s.markAt || pts.length === 1) {
      const only = s.markAt && !s.markers ? new Set(s.markAt) : null;
      for (const [x, y, i] of pts) if (!only || only.has(i)) out.push(`<circle cx="${n(x)}" cy="${n(y)}" r="3.2" fill="${s.color}" stroke="#ffffff" stroke-width="1"><title>${esc(s.pointTitle ? s.pointTitle(i) : s.name)}</title></circle>`);
    }
    out.push('</g>');
  }
  out.push(...legend(p, spec.series.map((s) => ({ name: s.name, color: s.color, dash: s.dash })), spec.legend ?? 'top-right'));
  out.push('</svg>');
  return out.join('\n');
}

/** Grouped vertical bars: one group per category, one bar per series; a zero line when the axis spans 0. */
export function barChart(spec: BarChartSpec): string {
  const p = plotArea(spec, { label: '', min: 0, max: 1 }, spec.y);
  const yTicks = spec.y.ticks ?? linearTicks(spec.y.min, spec.y.max);
  const out = open(spec, p);
  out.push(...axes(p, { label: '', min: 0, max: 1 }, spec.y, [], yTicks, { xCategory: true }));
  const groupW = (p.x1 - p.x0) / Math.max(1, spec.categories.length);
  const nSeries = Math.max(1, spec.series.length);
  const barW = Math.min(56, (groupW * 0.72) / nSeries);
  const zero = p.py(Math.min(Math.max(0, spec.y.min), spec.y.max));
  spec.categories.forEach((cat, ci) => {
    const gx = p.x0 + groupW * ci + (groupW - barW * nSeries) / 2;
    out.push(`<text x="${n(p.x0 + groupW * (ci + 0.5))}" y="${n(p.y0 + 18)}" font-size="12" fill="#1f2328" text-anchor="middle">${esc(cat)}</text>`);
    spec.series.forEach((s, si) => {
      const v = s.values[ci];
      const x = gx + si * barW;
      if (v === null || !Number.isFinite(v)) {
        out.push(`<text x="${n(x + barW / 2)}" y="${n(zero - 4)}" font-size="10" fill="#57606a" text-anchor="middle">n/a</text>`);
        return;
      }
      const y = p.py(Math.min(Math.max(v, spec.y.min), spec.y.max));
      const top = Math.min(y, zero);
      const label = spec.valueLabel ? spec.valueLabel(v) : String(v);
      out.push(`<rect x="${n(x + 1)}" y="${n(top)}" width="${n(barW - 2)}" height="${n(Math.max(0.5, Math.abs(zero - y)))}" fill="${s.color}"><title>${esc(`${s.name} · ${cat}: ${label}`)}</title></rect>`);
      const ly = v >= 0 ? top - 4 : top + Math.abs(zero - y) + 12;
      out.push(`<text x="${n(x + barW / 2)}" y="${n(ly)}" font-size="10.5" fill="#1f2328" text-anchor="middle"${HALO}>${esc(label)}</text>`);
    });
  });
  if (spec.y.min < 0 && spec.y.max > 0) out.push(`<line x1="${n(p.x0)}" y1="${n(zero)}" x2="${n(p.x1)}" y2="${n(zero)}" stroke="#57606a" stroke-width="1.2"/>`);
  out.push(...legend(p, spec.series.map((s) => ({ name: s.name, color: s.color, box: true })), spec.legend ?? 'top-right'));
  out.push('</svg>');
  return out.join('\n');
}

/** A histogram of pre-binned counts, drawn as the percentage of all values per bin. */
export function histogram(spec: HistogramSpec): string {
  const total = spec.counts.reduce((s, c) => s + c, 0) || 1;
  const pct = spec.counts.map((c) => (100 * c) / total);
  const yAxis: Axis = { label: spec.yLabel, min: 0, max: niceDomain(0, Math.max(1, ...pct))[1] };
  const p = plotArea(spec, spec.x, yAxis);
  const xTicks = spec.x.ticks ?? linearTicks(spec.x.min, spec.x.max);
  const yTicks = linearTicks(yAxis.min, yAxis.max);
  const out = open(spec, p);
  out.push(...axes(p, spec.x, yAxis, xTicks, yTicks));
  for (let b = 0; b < spec.counts.length; b++) {
    if (spec.counts[b] === 0) continue;
    const xa = p.px(spec.edges[b]);
    const xb = p.px(spec.edges[b + 1]);
    const y = p.py(pct[b]);
    out.push(
      `<rect x="${n(xa + 0.5)}" y="${n(y)}" width="${n(Math.max(1, xb - xa - 1))}" height="${n(p.y0 - y)}" fill="${spec.color}" fill-opacity="0.85"><title>${esc(`[${spec.edges[b].toFixed(3)}, ${spec.edges[b + 1].toFixed(3)}): ${spec.counts[b]} (${pct[b].toFixed(1)}%)`)}</title></rect>`,
    );
  }
  for (const m of spec.markers ?? []) {
    if (!Number.isFinite(m.x)) continue;
    const x = p.px(m.x);
    out.push(`<line x1="${n(x)}" y1="${n(p.y1)}" x2="${n(x)}" y2="${n(p.y0)}" stroke="#1f2328" stroke-width="1.2" stroke-dasharray="4 3"/>`);
    const anchor = x > (p.x0 + p.x1) / 2 ? 'end' : 'start';
    out.push(`<text x="${n(anchor === 'end' ? x - 5 : x + 5)}" y="${n(p.y1 + 14)}" font-size="11" fill="#1f2328" text-anchor="${anchor}"${HALO}>${esc(m.label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** A placeholder chart that says which input would fill it (keeps every chart slot present). */
export function emptyChart(frame: ChartFrame, message: string): string {
  const w = frame.width ?? 560;
  const h = frame.height ?? 360;
  const out = open({ ...frame, attrs: { ...(frame.attrs ?? {}), 'data-empty': 'true' } }, { w, h });
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w - MARGIN.left - MARGIN.right}" height="${h - MARGIN.top - MARGIN.bottom}" fill="#f6f8fa" stroke="#d0d7de" stroke-dasharray="4 4"/>`);
  out.push(`<text x="${n(w / 2)}" y="${n(h / 2)}" font-size="12.5" fill="#57606a" text-anchor="middle">${esc(message)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}
