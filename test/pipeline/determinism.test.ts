// Same --seed and backend → byte-identical outputs, for every command that writes files, run through the CLI
// on the tiny fixture. The chain runs twice in the same folder (the first copy moved aside), so paths recorded
// in metadata agree; only wall-clock figures in JSON sidecars (seconds, samples/s, QPS, timestamps) may differ.
// `prepare` is covered by the importer tests (test/data: same seed → same bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BIN as bin, CLI_ENV, ROOT as root, ensureBuilt } from '../_built-cli.js';

/** JSON keys that hold wall-clock measurements, not results. */
const VOLATILE_KEY = /seconds|per_s$|^qps$|_at$|_ms$/i;


function runChain(w: string): string[] {
  const d = 'fixtures/tiny';
  const commands: string[][] = [
    ['synth', '--preset', 'tiny', '--out', `${w}/synth`],
    ['train-ctr', '--data', d, '--domain', 'source', '--epochs', '1', '--out', `${w}/source`],
    ['extract-pairs', '--data', d, '--method', 'esu', '--model', `${w}/source`, '--theta', '0.05', '--out', `${w}/pairs-esu`],
    ['extract-pairs', '--data', d, '--method', 'swing', '--out', `${w}/pairs-swing`],
    ['train-content', '--data', d, '--epochs', '1', '--min-steps', '0', '--out', `${w}/content`],
    ['train-behavior', '--data', d, '--id-embeddings', `${w}/source/id_embeddings.arrow`, '--epochs', '1', '--min-steps', '0', '--out', `${w}/behavior`],
    ['train-union', '--data', d, '--content', `${w}/content/content.arrow`, '--behavior', `${w}/behavior/behavior.arrow`, '--pairs', `${w}/pairs-esu/pairs.arrow`, '--epochs', '1', '--min-steps', '0', '--out', `${w}/union`],
    ['embed', '--union-model', `${w}/union/model`, '--content-model', `${w}/content/model`, '--behavior-model', `${w}/behavior/model`, '--items', `${d}/items.arrow`, '--out', `${w}/embed`],
    ['build-index', '--embeddings', `${w}/union/joint.arrow`, '--out', `${w}/index`],
    ['search-gsu', '--data', d, '--embeddings', `${w}/union/joint.arrow`, '--shard', '0/2', '--out', `${w}/gsu-0`],
    ['search-gsu', '--data', d, '--embeddings', `${w}/union/joint.arrow`, '--shard', '1/2', '--out', `${w}/gsu-1`],
    ['merge', `${w}/gsu-0`, `${w}/gsu-1`, '--out', `${w}/gsu`],
    ['train-ctr', '--data', d, '--domain', 'target', '--variant', 'gist', '--gsu', `${w}/gsu/gsu.arrow`, '--embeddings', `${w}/union/joint.arrow`, '--epochs', '1', '--out', `${w}/ctr-gist`],
    ['evaluate', `gist=${w}/ctr-gist/predictions.arrow`, '--data', d, '--embeddings', `joint=${w}/union/joint.arrow`, '--pairs', `${w}/pairs-esu/pairs.arrow`, '--gsu', `gsu=${w}/gsu/gsu.arrow`, '--html', `${w}/eval/report.html`, '--save-metrics', `${w}/eval/metrics.json`],
    ['export', '--data', d, '--domain', 'target', '--out', `${w}/export/target.csv`],
  ];
  fs.mkdirSync(path.join(w, 'eval'), { recursive: true });
  for (const args of commands) {
    const r = spawnSync(process.execPath, [bin, ...args, '--seed', '11', '--quiet'], { cwd: root, encoding: 'utf8', env: CLI_ENV });
    assert.equal(r.status, 0, `gist ${args.join(' ')}\n${r.stderr}`);
  }
  return commands.map((c) => c[0]);
}

function files(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE_KEY.test(k)).map(([k, x]) => [k, stripVolatile(x)]));
  return v;
}

test('every command gives byte-identical outputs for the same seed (JSON: up to wall-clock fields)', () => {
  ensureBuilt();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-determinism-'));
  const work = path.join(base, 'w');
  const ran = runChain(work);
  fs.renameSync(work, path.join(base, 'first'));
  runChain(work);
  const first = files(path.join(base, 'first'));
  assert.deepEqual(files(work), first);
  let compared = 0;
  for (const rel of first) {
    const a = fs.readFileSync(path.join(base, 'first', rel));
    const b = fs.readFileSync(path.join(work, rel));
    if (rel.endsWith('.json')) assert.deepEqual(stripVolatile(JSON.parse(b.toString('utf8'))), stripVolatile(JSON.parse(a.toString('utf8'))), rel);
    // The report's header says when it was made (a <time> element): the only wall-clock text in it.
    else if (rel.endsWith('.html')) assert.equal(b.toString('utf8').replace(/<time [^>]*>[^<]*<\/time>/g, ''), a.toString('utf8').replace(/<time [^>]*>[^<]*<\/time>/g, ''), rel);
    else assert.ok(a.equals(b), `${rel} differs between two runs with the same seed`);
    compared++;
  }
  // Every command's output folder took part (evaluate writes into eval/, export into export/).
  for (const dir of ['synth', 'source', 'pairs-esu', 'pairs-swing', 'content', 'behavior', 'union', 'embed', 'index', 'gsu', 'ctr-gist', 'eval', 'export']) {
    assert.ok(first.some((f) => f.startsWith(dir + path.sep)), `${dir} wrote nothing`);
  }
  assert.ok(compared > 40, `${compared} files compared (${ran.length} commands)`);
  // And the binary outputs really are there: arrow tables and model weights.
  assert.ok(first.filter((f) => f.endsWith('.arrow')).length >= 10);
  fs.rmSync(base, { recursive: true, force: true });
});
