import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { DOMAIN_CODE, loadDataset, SPLIT_CODE, type Dataset, type SequenceStore, type Samples } from '../../src/core/dataset.js';
import { UsageError } from '../../src/core/errors.js';
import { resolveSynthConfig, synthesize, type SynthResult } from '../../src/core/synth.js';
import { folderBytes, gist, ROOT, tmpDir } from './_helpers.js';

const FIXTURE = path.join(ROOT, 'fixtures', 'tiny');
let work: string;
let fixture: Dataset;

before(() => {
  work = tmpDir();
  fixture = loadDataset(FIXTURE);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('fixtures/tiny is exactly what `gist synth --preset tiny --seed 7` makes (same seed, same bytes)', async () => {
  const out = path.join(work, 'tiny-7');
  await synthesize({ preset: 'tiny', out, seed: 7 });
  const made = folderBytes(out);
  const committed = folderBytes(FIXTURE);
  assert.deepEqual([...made.keys()], [...committed.keys()]);
  for (const [name, bytes] of made) {
    assert.ok(bytes.equals(committed.get(name)!), `${name} differs from fixtures/tiny: if the change is intended, regenerate it with \`gist synth --preset tiny --seed 7 --out fixtures/tiny\``);
  }
  assert.ok([...committed.values()].reduce((s, b) => s + b.length, 0) < 1 << 20, 'fixture stays under 1 MB');
});

test('synth workers (blocks of users generated in parallel, appended in user order) write the same bytes as one thread', async () => {
  // 150 users: three blocks of 64, so two workers each get one and the last block is short.
  const files = async (threads: number): Promise<Map<string, Buffer>> => {
    const out = path.join(work, `threads-${threads}`);
    await synthesize({ preset: 'tiny', out, seed: 11, overrides: { users: 150 }, threads });
    return folderBytes(out);
  };
  const one = await files(1);
  const two = await files(2);
  assert.deepEqual([...two.keys()], [...one.keys()]);
  assert.ok(one.size >= 7, [...one.keys()].join(' '));
  for (const [name, bytes] of one) assert.ok(bytes.equals(two.get(name)!), `${name} differs between 1 and 2 threads`);
});

test('a different seed gives different data', async () => {
  const out = path.join(work, 'tiny-8');
  await synthesize({ preset: 'tiny', out, seed: 8 });
  for (const name of ['items.arrow', 'sequences_source.arrow', 'samples_target.arrow']) {
    assert.ok(!fs.readFileSync(path.join(out, name)).equals(fs.readFileSync(path.join(FIXTURE, name))), name);
  }
});

function assertHistoriesBeforeTs(samples: Samples, store: SequenceStore): void {
  for (let i = 0; i < samples.count; i++) {
    const u = samples.userId[i];
    const t = samples.ts[i];
    const [lo, hi] = store.range(u);
    const [a, b] = store.historyBefore(u, t, 1e9);
    assert.equal(a, lo);
    for (let j = a; j < b; j++) assert.ok(store.ts[j] < t, `sample ${i}: event at ${store.ts[j]} not before ${t}`);
    if (b < hi) assert.ok(store.ts[b] >= t, `sample ${i}: an earlier event was left out`);
    const [c, d] = store.historyBefore(u, t, 5);
    assert.deepEqual([c, d], [Math.max(a, b - 5), b], 'the most recent maxLen events');
  }
}

test('fixture: every sample\'s history is exactly the user\'s events strictly before its ts, in both stores', () => {
  for (const d of ['source', 'target'] as const) {
    assertHistoriesBeforeTs(fixture.samples[d], fixture.sequences.target);
    assertHistoriesBeforeTs(fixture.samples[d], fixture.sequences.source);
  }
});

test('fixture: planted truth — topics visible, p_true stored, cold items only outside training', () => {
  const { items, samples } = fixture;
  assert.equal(items.count, 300);
  assert.equal(items.content?.dim, 16);
  assert.deepEqual(items.categoryNames, ['topic0', 'topic1', 'topic2', 'topic3', 'topic4']);
  for (let i = 0; i < items.count; i++) assert.ok(items.title[i].includes(items.categoryNames[items.category![i]]), items.title[i]);
  for (const d of ['source', 'target'] as const) assert.ok(samples[d].pTrue, `${d} samples carry p_true`);
  const t = samples.target;
  const inTrain = new Uint8Array(items.count);
  const inEval = new Uint8Array(items.count);
  for (let i = 0; i < t.count; i++) (t.split[i] === SPLIT_CODE.train ? inTrain : inEval)[t.itemId[i]] = 1;
  let coldShown = 0;
  for (let i = 0; i < items.count; i++) if (items.domain[i] === DOMAIN_CODE.target && !inTrain[i] && inEval[i]) coldShown++;
  assert.ok(coldShown >= 3, `cold-start items appear in valid/test (${coldShown})`);
  let maxLen = 0;
  for (let r = 0; r + 1 < fixture.sequences.source.offsets.length; r++) maxLen = Math.max(maxLen, fixture.sequences.source.offsets[r + 1] - fixture.sequences.source.offsets[r]);
  assert.ok(maxLen <= 200 && maxLen > 100, `source sequences up to --source-len (${maxLen})`);
  // Real-looking increasing seconds.
  assert.ok(t.ts[0] > 1.5e9 && t.ts[0] < 1.7e9);
});

test('synth result reports the oracle AUC, and sub-topics carry signal beyond topics', async () => {
  const r: SynthResult = await synthesize({ preset: 'tiny', out: path.join(work, 'tiny-9'), seed: 9, overrides: { users: 200 } });
  assert.equal(r.counts.users.total, 200);
  assert.ok(r.truth.oracle_auc.target.test > 0.75, JSON.stringify(r.truth));
  assert.ok(r.truth.target_test_auc_without_subtopic < r.truth.oracle_auc.target.test - 0.03, JSON.stringify(r.truth));
  assert.ok(r.counts.events.max_target_len <= 200);
});

test('synth config: presets, overrides and their errors', () => {
  assert.equal(resolveSynthConfig('paper').users, 10_000);
  const short = resolveSynthConfig('small', { sourceLen: 30 });
  assert.equal(short.sourceLenMin, 30, '--source-len below the preset minimum lowers the minimum');
  assert.throws(() => resolveSynthConfig('huge'), (e: Error) => e instanceof UsageError && /unknown --preset "huge"/.test(e.message));
  assert.throws(() => resolveSynthConfig('tiny', { userz: 3 }), (e: Error) => e instanceof UsageError && /unknown key "userz"/.test(e.message));
  assert.throws(() => resolveSynthConfig('tiny', { coldShare: 1 }), UsageError);
  assert.throws(() => resolveSynthConfig('tiny', { users: 2.5 }), /users must be an integer/);
});

test('gist synth --json prints the result; flags override the preset', () => {
  const out = path.join(work, 'cli');
  const r = gist('synth', ['--preset', 'tiny', '--users', '20', '--source-len', '40', '--seed', '3', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as SynthResult;
  assert.equal(result.counts.users.total, 20);
  assert.ok(result.counts.events.max_source_len <= 40);
  assert.deepEqual(result.files.sort(), fs.readdirSync(out).sort());
});

test('gist synth --set key=number overrides any SynthConfig field (the same bytes as --config); the pipeline passes such overrides with it', async () => {
  const viaSet = path.join(work, 'set');
  const r = gist('synth', ['--preset', 'tiny', '--seed', '3', '--set', 'subtopic_visibility=0', '--set', 'sourceNegatives=1', '--out', viaSet, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const viaCore = path.join(work, 'set-core');
  await synthesize({ preset: 'tiny', out: viaCore, seed: 3, overrides: { subtopic_visibility: 0, source_negatives: 1 } });
  const data = (dir: string): Map<string, Buffer> => new Map([...folderBytes(dir)].filter(([f]) => f !== 'config.json')); // config.json records the invocation
  assert.deepEqual(data(viaSet), data(viaCore));
  for (const bad of ['subtopic_visibility', 'subtopic_visibility=x', '=1', 'no_such_field=1']) {
    const e = gist('synth', ['--preset', 'tiny', '--set', bad, '--out', path.join(work, 'set-bad')]);
    assert.equal(e.status, 2, `${bad}: ${e.stderr}`);
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.ok(!fs.existsSync(path.join(work, 'set-bad')));
  }
  const { synthFlags } = await import('../../src/core/pipeline/argv.js');
  assert.deepEqual(synthFlags({ users: 50, subtopic_visibility: 0 }), ['--users', '50', '--set', 'subtopic_visibility=0']);
});

test('source negatives are impressions, not "anything outside the history": "already in the history" alone scores AUC ≤ 0.6', async () => {
  const r = await synthesize({ preset: 'small', out: path.join(work, 'leak'), seed: 11, overrides: { users: 400, targetSamples: 4000 } });
  assert.ok(r.truth.source_in_history_auc <= 0.6, `in-history AUC ${r.truth.source_in_history_auc}`);
  assert.ok(r.truth.source_in_history_auc >= 0.4, 'and no inverted leak either');
});

test('subtopicVisibility: 0 leaves sub-topics out of content; above 0 each sub-topic has words of its own', async () => {
  const planted = async (v: number): Promise<{ text: string[]; sub: Int32Array }> => {
    const out = path.join(work, `vis-${v}`);
    await synthesize({ preset: 'tiny', out, seed: 5, overrides: { subtopicVisibility: v } });
    const ds = loadDataset(out);
    const { readPlanted } = await import('../../src/core/evaluate/planted.js');
    return { text: ds.items.text.map((t, i) => `${ds.items.title[i]} ${t}`), sub: readPlanted(out, ds.items.count)!.subtopic };
  };
  const none = await planted(0);
  assert.ok(none.text.every((t) => !/\bterm\d+/.test(t)));
  const some = await planted(0.5);
  const owner = new Map<string, number>();
  let words = 0;
  some.text.forEach((t, i) => {
    for (const w of t.match(/\bterm\d+/g) ?? []) {
      words++;
      if (owner.has(w)) assert.equal(owner.get(w), some.sub[i], `${w} belongs to one sub-topic`);
      owner.set(w, some.sub[i]);
    }
  });
  assert.ok(words > some.text.length, 'about half of the words at visibility 0.5');
  await assert.rejects(synthesize({ preset: 'tiny', out: path.join(work, 'vis-bad'), seed: 5, overrides: { subtopicVisibility: 2 } }), UsageError);
});
