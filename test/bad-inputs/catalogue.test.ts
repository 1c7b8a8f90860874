/**
 * The bad-input catalogue (test/bad-inputs/README.md): every case runs the BUILT CLI (`node bin/run.js <cmd> …
 * --json`; `npm run build` first, as CI does) and checks the documented exit code, a one-line message naming
 * file / column / row where it applies, no partial output (a new --out is absent or empty, an existing one is
 * unchanged, no staging or temp files left) and unchanged inputs (content hashes before and after).
 *
 * GIST_CLI=/path/to/bin/run.js runs another build (e.g. a private one while the working tree is being rebuilt).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ExecFileException } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readArrow, writeArrow, type Columns, type DictColumn, type ListColumn, type VectorColumn } from '../../src/core/arrow-io.js';
import { EMBEDDINGS, ITEMS, PAIRS, PREDICTIONS, SAMPLES, SEQUENCES, type TableSpec } from '../../src/core/schemas.js';
import { textCorpus } from '../fuzz/corpus.js';
import { CASES, type Case } from './cases.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = process.env.GIST_CLI ?? path.join(ROOT, 'bin/run.js');
const FIXTURE = path.join(ROOT, 'fixtures/tiny');
const README = path.join(import.meta.dirname, 'README.md');

// ---- fixtures -------------------------------------------------------------------------------------------

const META = { command: 'test', version: '0', seed: 0, config_hash: '0' };

function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

/** Rewrite one table of a folder: read with its spec, mutate the typed columns, write it back. */
function rewrite(file: string, spec: TableSpec, mutate: (c: Columns) => void): void {
  const f = readArrow(file, spec);
  mutate(f.columns);
  writeArrow(file, spec, f.columns, f.metadata);
}

/** A copy of the dataset with one change. */
function badDataset(work: string, name: string, change: (dir: string) => void): void {
  const dir = path.join(work, 'ds', name);
  copyDir(path.join(work, 'data'), dir);
  change(dir);
}

function vectors(n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, (_, i) => Math.sin(i * 1.7 + 0.3));
}

function writeRaw(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

function editLine(text: string, line: number, edit: (l: string) => string): string {
  const lines = text.split('\n');
  lines[line - 1] = edit(lines[line - 1]);
  return lines.join('\n');
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env, FORCE_COLOR: '0' }, timeout: 180_000, maxBuffer: 64 << 20 }, (err: ExecFileException | null, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

async function buildFixtures(work: string): Promise<void> {
  if (!fs.existsSync(path.join(FIXTURE, 'dataset.json'))) throw new Error(`${FIXTURE} missing: the catalogue runs on the tiny fixture (gist synth --preset tiny --seed 7 --out fixtures/tiny)`);
  copyDir(FIXTURE, path.join(work, 'data'));
  copyDir(FIXTURE, path.join(work, 'data-same'));
  const data = path.join(work, 'data');

  // Arrow files for the readers.
  const arrow = path.join(work, 'arrow');
  fs.mkdirSync(arrow);
  fs.writeFileSync(path.join(arrow, 'empty.arrow'), '');
  const items = fs.readFileSync(path.join(data, 'items.arrow'));
  fs.writeFileSync(path.join(arrow, 'truncated.arrow'), items.subarray(0, Math.floor(items.length * 0.6)));
  fs.writeFileSync(path.join(arrow, 'items-csv.arrow'), 'item_id,domain,title,text\n0,source,apple,fruit\n1,target,pan,kitchen\n');

  // Embeddings (300 items in the fixture) and pairs.
  const emb = path.join(work, 'emb');
  fs.mkdirSync(emb);
  const ids = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  writeArrow(path.join(emb, 'joint.arrow'), EMBEDDINGS, { item_id: ids(300), vector: { dim: 8, values: vectors(300, 8) } }, META);
  writeArrow(path.join(emb, 'joint4.arrow'), EMBEDDINGS, { item_id: ids(300), vector: { dim: 4, values: vectors(300, 4) } }, META);
  writeArrow(path.join(emb, 'joint-few.arrow'), EMBEDDINGS, { item_id: ids(50), vector: { dim: 8, values: vectors(50, 8) } }, META);
  const nan = vectors(300, 8);
  nan[7 * 8 + 3] = NaN;
  writeArrow(path.join(emb, 'joint-nan.arrow'), EMBEDDINGS, { item_id: ids(300), vector: { dim: 8, values: nan } }, META);
  const big = ids(300);
  big[17] = 2147483000;
  writeArrow(path.join(emb, 'joint-bigid.arrow'), EMBEDDINGS, { item_id: big, vector: { dim: 8, values: vectors(300, 8) } }, META);
  writeArrow(path.join(emb, 'pairs.arrow'), PAIRS, { target_item: Int32Array.from([210, 220, 230]), related_item: Int32Array.from([1, 2, 3]), attention: Float32Array.from([0.5, 0.6, 0.7]), count: Int32Array.from([1, 1, 1]) }, META);

  // Predictions of the target valid/test samples.
  const preds = path.join(work, 'preds');
  fs.mkdirSync(preds);
  const s = readArrow(path.join(data, 'samples_target.arrow'), SAMPLES).columns;
  const split = s.split as DictColumn;
  const rows = [...split.codes.keys()].filter((i) => split.values[split.codes[i]] !== 'train');
  const take = <T extends Int32Array | Int8Array>(a: T): T => (a.constructor as unknown as { from(x: number[]): T }).from(rows.map((i) => a[i]));
  const predictions = (): Columns => ({
    sample_id: take(s.sample_id as Int32Array),
    user_id: take(s.user_id as Int32Array),
    item_id: take(s.item_id as Int32Array),
    label: take(s.label as Int8Array),
    score: Float32Array.from(rows, (i) => ((i * 7919) % 1000) / 1000),
    split: { codes: Int32Array.from(rows, (i) => (split.values[split.codes[i]] === 'valid' ? 0 : 1)), values: ['valid', 'test'] },
  });
  writeArrow(path.join(preds, 'din.arrow'), PREDICTIONS, predictions(), META);
  const label2 = predictions();
  (label2.label as Int8Array)[5] = 2;
  writeArrow(path.join(preds, 'label2.arrow'), PREDICTIONS, label2, META);
  const scoreNan = predictions();
  (scoreNan.score as Float32Array)[3] = NaN;
  writeArrow(path.join(preds, 'score-nan.arrow'), PREDICTIONS, scoreNan, META);
  const f64 = predictions();
  f64.score = Float64Array.from(f64.score as Float32Array);
  writeArrow(path.join(preds, 'score-f64.arrow'), { ...PREDICTIONS, columns: PREDICTIONS.columns.map((c) => (c.name === 'score' ? { ...c, kind: 'float64' as const } : c)) }, f64, META);
  const noLabel = predictions();
  delete noLabel.label;
  writeArrow(path.join(preds, 'no-label.arrow'), { ...PREDICTIONS, columns: PREDICTIONS.columns.filter((c) => c.name !== 'label') }, noLabel, META);

  // Broken dataset folders: one change each.
  badDataset(work, 'items-dup', (d) => rewrite(path.join(d, 'items.arrow'), ITEMS, (c) => ((c.item_id as Int32Array)[5] = 4)));
  badDataset(work, 'seq-unsorted', (d) =>
    rewrite(path.join(d, 'sequences_source.arrow'), SEQUENCES, (c) => {
      const ts = c.ts as ListColumn<Float64Array>;
      const a = ts.offsets[0];
      if (ts.offsets[1] - a < 2 || ts.values[a] === ts.values[a + 1]) throw new Error('fixture: user row 0 needs two distinct event times');
      [ts.values[a], ts.values[a + 1]] = [ts.values[a + 1], ts.values[a]];
    }),
  );
  badDataset(work, 'seq-item-range', (d) =>
    rewrite(path.join(d, 'sequences_target.arrow'), SEQUENCES, (c) => {
      const l = c.items as ListColumn<Int32Array>;
      if (l.offsets[1] === 0) throw new Error('fixture: target user row 0 needs an event');
      l.values[0] = 300;
    }),
  );
  badDataset(work, 'seq-dup-user', (d) => rewrite(path.join(d, 'sequences_source.arrow'), SEQUENCES, (c) => ((c.user_id as Int32Array)[3] = (c.user_id as Int32Array)[2])));
  badDataset(work, 'samples-label', (d) => rewrite(path.join(d, 'samples_target.arrow'), SAMPLES, (c) => ((c.label as Int8Array)[7] = 2)));
  badDataset(work, 'samples-nan-ts', (d) => rewrite(path.join(d, 'samples_source.arrow'), SAMPLES, (c) => ((c.ts as Float64Array)[4] = NaN)));
  badDataset(work, 'samples-item-unknown', (d) => rewrite(path.join(d, 'samples_target.arrow'), SAMPLES, (c) => ((c.item_id as Int32Array)[9] = 9999)));
  badDataset(work, 'user-not-dense', (d) => rewrite(path.join(d, 'samples_target.arrow'), SAMPLES, (c) => ((c.user_id as Int32Array)[2] = 1 << 30)));
  badDataset(work, 'content-inf', (d) =>
    rewrite(path.join(d, 'items.arrow'), ITEMS, (c) => {
      const v = c.content as VectorColumn;
      v.values[6 * v.dim + 1] = Infinity;
    }),
  );
  badDataset(work, 'items-wrong-table', (d) => fs.copyFileSync(path.join(d, 'sequences_source.arrow'), path.join(d, 'items.arrow')));
  badDataset(work, 'no-manifest', (d) => fs.rmSync(path.join(d, 'dataset.json')));

  // Importer inputs: the fuzzer's valid corpus, then one change per case.
  const raw = Object.fromEntries(textCorpus().map((t) => [t.name, t.files]));
  const fk = raw['food-kitchen'];
  const ml = raw.movielens;
  const tsv = raw['tsv-tsv'];
  const r = path.join(work, 'raw');
  writeRaw(path.join(r, 'fk-malformed'), { ...fk, 'train_overlap.txt': editLine(fk['train_overlap.txt'], 2, (l) => l + ',zz') });
  writeRaw(path.join(r, 'fk-no-events'), { ...fk, 'train_A.txt': fk['train_A.txt'] + '12\t\n' });
  writeRaw(path.join(r, 'fk-item-range'), { ...fk, 'train_B.txt': fk['train_B.txt'] + '\n12\t1,99\n' });
  writeRaw(path.join(r, 'ml-nan'), { ...ml, 'ratings.csv': editLine(ml['ratings.csv'], 3, (l) => l.replace(/,[^,]*,([^,]*)$/, ',NaN,$1')) });
  writeRaw(path.join(r, 'ml-unknown'), { ...ml, 'ratings.csv': ml['ratings.csv'] + '1,999,4.0,964982703\n' });
  writeRaw(path.join(r, 'tsv-ok'), tsv);
  writeRaw(path.join(r, 'tsv-same'), tsv);
  writeRaw(path.join(r, 'tsv-label'), { ...tsv, 'events.tsv': editLine(tsv['events.tsv'], 3, (l) => l.replace(/\t[^\t]*$/, '\t2')) });
  writeRaw(path.join(r, 'tsv-nan'), { ...tsv, 'items.tsv': editLine(tsv['items.tsv'], 4, (l) => l.replace(/ [^ \t]*$/, ' NaN')) });
  writeRaw(path.join(r, 'tsv-dim'), { ...tsv, 'items.tsv': editLine(tsv['items.tsv'], 5, (l) => l.replace(/ [^ \t]*$/, '')) });
  writeRaw(path.join(r, 'tsv-dup'), { ...tsv, 'items.tsv': tsv['items.tsv'] + tsv['items.tsv'].split('\n')[2] + '\n' });
  writeRaw(path.join(r, 'tsv-no-ts'), {
    ...tsv,
    'events.tsv': tsv['events.tsv']
      .split('\n')
      .map((l) => l.split('\t').filter((_, k) => k !== 2).join('\t'))
      .join('\n'),
  });
  writeRaw(path.join(r, 'tsv-empty'), { ...tsv, 'events.tsv': '' });

  // Configs and an existing file where a folder is expected.
  const cfg = path.join(work, 'cfg');
  fs.mkdirSync(cfg);
  fs.writeFileSync(path.join(cfg, 'synth-unknown-key.json'), JSON.stringify({ users: 5, bogus: 1 }));
  fs.writeFileSync(path.join(cfg, 'pipeline-unknown-key.json'), JSON.stringify({ k: 50, bogus: 1 }));
  fs.writeFileSync(path.join(cfg, 'a-file'), 'not a folder\n');

  // Outputs of other commands (real ones): an HNSW index over emb/joint.arrow and a train-content folder.
  const made = await Promise.all([
    runCli(work, ['build-index', '-e', 'emb/joint.arrow', '-o', 'idx', '--threads', '0', '--json']),
    runCli(work, ['train-content', '-d', 'data', '-o', 'models/content', '--epochs', '0', '--json']),
  ]);
  for (const m of made) if (m.code !== 0) throw new Error(`fixture command failed (${m.code}): ${m.stdout.slice(0, 400)} ${m.stderr.slice(0, 400)}`);
  copyDir(path.join(work, 'models/content'), path.join(work, 'models/content-resume'));
}

// ---- checks ---------------------------------------------------------------------------------------------

/** Content hash of a file or folder tree (names and bytes), or null when absent. */
function treeHash(p: string): string | null {
  if (!fs.existsSync(p)) return null;
  const h = createHash('sha256');
  const walk = (q: string, rel: string): void => {
    const st = fs.statSync(q);
    if (st.isDirectory()) {
      h.update(`d:${rel}\n`);
      for (const name of fs.readdirSync(q).sort()) walk(path.join(q, name), path.join(rel, name));
    } else h.update(`f:${rel}:`).update(fs.readFileSync(q)).update('\n');
  };
  walk(p, '.');
  return h.digest('hex');
}

const LEFTOVER = /^\.staging-|\.tmp-\d+/;

/** Staging folders and temp files a failed write must not leave behind: inside OUT, and beside OUT. */
function leftovers(out: string): string[] {
  const found: string[] = [];
  const walk = (q: string): void => {
    for (const e of fs.readdirSync(q, { withFileTypes: true })) {
      const p = path.join(q, e.name);
      if (LEFTOVER.test(e.name)) found.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) walk(out);
  const parent = path.dirname(out);
  if (fs.existsSync(parent)) for (const name of fs.readdirSync(parent)) if (name.startsWith(`.${path.basename(out)}.tmp-`)) found.push(path.join(parent, name));
  return found;
}

/** Existing paths named on the command line: they must not change. */
function inputPaths(work: string, c: Case): string[] {
  return c.args.filter((a) => !a.startsWith('-') && fs.existsSync(path.join(work, a))).map((a) => path.join(work, a));
}

function parseJsonError(stdout: string): { status: number; error: { message: string; exitCode: number; code: string } } {
  const start = stdout.indexOf('{');
  assert.ok(start >= 0, `no JSON on stdout: ${stdout.slice(0, 400)}`);
  return JSON.parse(stdout.slice(start)) as { status: number; error: { message: string; exitCode: number; code: string } };
}

// ---- the catalogue ----------------------------------------------------------------------------------------

describe('bad-input catalogue (built CLI)', { concurrency: 3 }, () => {
  let work = '';

  before(async () => {
    const built = path.join(path.dirname(path.dirname(CLI)), 'dist', 'commands');
    if (!fs.existsSync(built)) throw new Error(`${built} missing: run \`npm run build\` before the catalogue (CI builds first)`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-bad-inputs-'));
    await buildFixtures(work);
  });

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('README table lists exactly these cases (number, command, exit code)', () => {
    const rows = fs
      .readFileSync(README, 'utf8')
      .split('\n')
      .filter((l) => /^\|\s*\d+\s*\|/.test(l))
      .map((l) => l.split('|').map((x) => x.trim()));
    assert.deepEqual(
      rows.map((r) => `${r[1]} ${r[2].replace(/`/g, '')} ${r[4]}`),
      CASES.map((c) => `${c.n} ${c.command} ${c.exit}`),
    );
    assert.ok(CASES.length >= 30);
  });

  for (const c of CASES) {
    test(`#${c.n} ${c.command}: ${c.title} → exit ${c.exit}`, { todo: c.todo }, async () => {
      const built = path.join(path.dirname(path.dirname(CLI)), 'dist', 'commands', `${c.command}.js`);
      assert.ok(fs.existsSync(built), `${built} missing: the command is not built`);
      const inputs = inputPaths(work, c).filter((p) => !c.out || path.resolve(p) !== path.resolve(work, c.out));
      const before = new Map(inputs.map((p) => [p, treeHash(p)]));
      const outPath = c.out ? path.join(work, c.out) : undefined;
      const outBefore = outPath ? treeHash(outPath) : null;
      const caseDir = path.join(work, 'cases', String(c.n));
      fs.mkdirSync(caseDir, { recursive: true });

      const r = await runCli(work, [c.command, ...c.args, '--json'], c.env);
      const detail = `stdout: ${r.stdout.slice(0, 600)}\nstderr: ${r.stderr.slice(0, 600)}`;
      assert.equal(r.code, c.exit, `exit code\n${detail}`);
      const json = parseJsonError(r.stdout);
      assert.equal(json.status, c.exit, detail);
      assert.equal(json.error.exitCode, c.exit, detail);
      assert.ok(!json.error.message.includes('\n'), `message is one line: ${JSON.stringify(json.error.message)}`);
      assert.match(json.error.message, c.message);

      if (c.human) {
        const h = await runCli(work, [c.command, ...c.args], c.env);
        assert.equal(h.code, c.exit, `exit code without --json\nstderr: ${h.stderr}`);
        assert.match(h.stderr, /^error: [^\n]+\n$/, `one "error: …" line on stderr, got ${JSON.stringify(h.stderr)}`);
        assert.match(h.stderr.slice('error: '.length), c.message);
      }

      for (const [p, hash] of before) assert.equal(treeHash(p), hash, `input ${path.relative(work, p)} changed`);
      if (outPath) {
        if (outBefore !== null) assert.equal(treeHash(outPath), outBefore, `existing output ${c.out} changed`);
        else if (fs.existsSync(outPath)) {
          // OutputStage creates OUT before the work starts; what may remain of a new OUT is an empty folder.
          assert.ok(fs.statSync(outPath).isDirectory() && fs.readdirSync(outPath).length === 0, `partial output left in ${c.out}: ${fs.readdirSync(outPath).join(', ')}`);
        }
        assert.deepEqual(leftovers(outPath), [], 'staging or temp files left behind');
      }
      assert.deepEqual(leftovers(caseDir), [], 'staging or temp files left behind');
    });
  }
});
