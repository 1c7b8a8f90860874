/**
 * An unknown command: one line with the closest command ("did you mean"), as a JSON error under --json, exit 2
 * (a usage error, as for any bad flag).
 */
import type { Hook } from '@oclif/core';
import { EXIT } from '../core/errors.js';

/** Edit distance (insertions, deletions, substitutions), for suggestions among a few dozen short names. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The closest name within a third of the typed name's length (at least 2 edits), or null. */
export function closestCommand(typed: string, ids: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Math.max(2, Math.floor(typed.length / 3)) + 1;
  for (const id of ids) {
    const d = editDistance(typed, id);
    if (d < bestD) [best, bestD] = [id, d];
  }
  return best;
}

const hook: Hook.CommandNotFound = async function (opts) {
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const suggestion = closestCommand(opts.id, ids);
  const message = `unknown command "${opts.id}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (\`${opts.config.bin} --help\` lists the commands)`;
  if ((opts.argv ?? []).includes('--json')) process.stdout.write(JSON.stringify({ status: EXIT.usage, error: { code: 'USAGE', message, exitCode: EXIT.usage } }, null, 2) + '\n');
  else process.stderr.write(`error: ${message}\n`);
  process.exit(EXIT.usage);
};

export default hook;
