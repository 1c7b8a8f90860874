/** Terminal rendering of `gist evaluate`: aligned tables with chalk, best values bold green, gate verdict. */
import chalk from 'chalk';
import { gateMessage } from '../core/evaluate/gate.js';
import type { EvaluateResult } from '../core/evaluate/result.js';
import { isBest, resultTables, type TableData } from '../core/evaluate/tables.js';

export function renderTable(t: TableData, baseline: string | null): string {
  const widths = t.headers.map((h, j) => Math.max(h.length, ...t.rows.map((r) => r[j].length)));
  const pad = (s: string, j: number): string => (t.align[j] === 'right' ? s.padStart(widths[j]) : s.padEnd(widths[j]));
  const lines = [chalk.bold(t.title), t.headers.map((h, j) => chalk.dim(pad(h, j))).join('  '), chalk.dim(widths.map((w) => '─'.repeat(w)).join('  '))];
  t.rows.forEach((row, i) => {
    const cells = row.map((c, j) => {
      const s = pad(c, j);
      if (isBest(t, i, j)) return chalk.bold.green(s);
      if (j === 0 && c === baseline && (t.id === 'ctr' || t.id === 'popularity')) return chalk.cyan(s);
      return s;
    });
    lines.push(cells.join('  '));
  });
  if (t.note) lines.push(chalk.dim(t.note));
  return lines.join('\n');
}

/** The human summary printed when neither --json nor --markdown is given. */
export function renderEvaluate(result: EvaluateResult): string {
  const parts = resultTables(result).map((t) => renderTable(t, result.baseline));
  for (const w of result.warnings) parts.push(chalk.yellow(`warning: ${w}`));
  if (result.gate) {
    const lines = [result.gate.passed ? chalk.green(`✔ ${gateMessage(result.gate)}`) : chalk.red(`✘ ${gateMessage(result.gate)}`)];
    for (const f of result.gate.failures) lines.push(chalk.red(`  - ${f.message}`));
    parts.push(lines.join('\n'));
  }
  const out = Object.entries(result.outputs).map(([k, v]) => `${k}: ${v}`);
  if (out.length) parts.push(chalk.dim(`wrote ${out.join(', ')}`));
  return parts.join('\n\n');
}
