/**
 * One fuzz case, deterministic in (seed, case number): pick a target, mutate a corpus input, feed it to the
 * readers/importers, and classify what happened. Success or a thrown UsageError / InputDataError / IoError is a
 * pass; anything else is a finding.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeArrow, encodeArrow, readArrow, type Columns, type DictColumn, type ListColumn, type VectorColumn } from '../../src/core/arrow-io.js';
import { loadDataset } from '../../src/core/dataset.js';
import { InputDataError, IoError, UsageError } from '../../src/core/errors.js';
import { prepareDataset } from '../../src/core/prepare/index.js';
import { ALL_SPECS, type TableSpec } from '../../src/core/schemas.js';
import { arrowCorpus, datasetCorpus, textCorpus, validColumns, type ArrowSeed, type TextInput } from './corpus.js';
import { caseRng, mutateBytes, mutateText, pick, type Rng } from './mutate.js';

export const TARGETS = ['arrow', 'arrow-values', 'dataset', 'import'] as const;
export type Target = (typeof TARGETS)[number];

export interface Finding {
  case: number;
  target: Target;
  input: string;
  steps: string[];
  /** which call failed: readArrow(SPEC), describeArrow, loadDataset, prepare, roundtrip, hang, crash */
  call: string;
  error: string;
  stack?: string;
}

export interface CaseResult {
  case: number;
  target: Target;
  /** outcome label → count (one per call: "ok", "InputDataError", ...) */
  outcomes: Record<string, number>;
  findings: Finding[];
}

export interface Corpus {
  arrow: ArrowSeed[];
  dataset: Map<string, Uint8Array>;
  text: TextInput[];
}

export function buildCorpus(): Corpus {
  return { arrow: arrowCorpus(), dataset: datasetCorpus(), text: textCorpus() };
}

/** The error classes a reader may throw on bad input. */
export function isExpectedError(err: unknown): boolean {
  return err instanceof InputDataError || err instanceof IoError || err instanceof UsageError;
}

function errorLine(err: unknown): string {
  if (err instanceof Error) return `${err.constructor?.name ?? err.name}: ${err.message.split('\n')[0].slice(0, 300)}`;
  return `non-Error thrown: ${String(err).slice(0, 300)}`;
}

function stackTop(err: unknown): string | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined;
  return err.stack
    .split('\n')
    .filter((l) => l.trimStart().startsWith('at '))
    .slice(0, 6)
    .map((l) => l.trim())
    .join(' | ');
}

/** Picks a target with fixed weights. */
function pickTarget(rng: Rng): Target {
  const r = rng.next();
  return r < 0.45 ? 'arrow' : r < 0.6 ? 'arrow-values' : r < 0.75 ? 'dataset' : 'import';
}

class CaseRun {
  readonly outcomes: Record<string, number> = {};
  readonly findings: Finding[] = [];
  constructor(
    readonly index: number,
    readonly target: Target,
    readonly input: string,
    readonly steps: string[],
  ) {}

  /** Run one reader call; record its outcome or a finding. Returns the value or undefined. */
  async call<T>(name: string, fn: () => T | Promise<T>): Promise<T | undefined> {
    try {
      const v = await fn();
      this.outcomes.ok = (this.outcomes.ok ?? 0) + 1;
      return v;
    } catch (err) {
      if (isExpectedError(err)) {
        const label = (err as Error).constructor.name;
        this.outcomes[label] = (this.outcomes[label] ?? 0) + 1;
        return undefined;
      }
      this.outcomes.finding = (this.outcomes.finding ?? 0) + 1;
      this.findings.push({ case: this.index, target: this.target, input: this.input, steps: this.steps, call: name, error: errorLine(err), stack: stackTop(err) });
      return undefined;
    }
  }

  finding(call: string, error: string): void {
    this.outcomes.finding = (this.outcomes.finding ?? 0) + 1;
    this.findings.push({ case: this.index, target: this.target, input: this.input, steps: this.steps, call, error });
  }

  result(): CaseResult {
    return { case: this.index, target: this.target, outcomes: this.outcomes, findings: this.findings };
  }
}

function clearDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

/** Read a (possibly corrupt) Arrow file with every spec, and describe it as `gist info` does. */
async function readWithEverySpec(run: CaseRun, file: string): Promise<void> {
  for (const spec of ALL_SPECS) await run.call(`readArrow(${spec.name})`, () => readArrow(file, spec));
  await run.call('describeArrow', () => describeArrow(file));
}

// ---- semantic (value-level) mutations: valid Arrow, invalid content ----------------------------------------

const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, -2147483648, 2147483647, 1e9, 3, 2, 0.5, -0];

function setTyped(rng: Rng, a: Int32Array | Int8Array | Float32Array | Float64Array): string {
  if (a.length === 0) return 'noop(empty)';
  const i = rng.int(a.length);
  const v = pick(rng, BAD_NUMBERS);
  a[i] = v;
  return `[${i}]=${v}`;
}

/** Mutate decoded columns so they still encode but break value rules (ranges, finiteness, sortedness, lengths). */
function mutateColumns(rng: Rng, spec: TableSpec, cols: Columns): string[] {
  const steps: string[] = [];
  const k = 1 + (rng.next() < 0.3 ? 1 : 0);
  for (let s = 0; s < k; s++) {
    const col = pick(rng, spec.columns);
    const data = cols[col.name];
    if (data === undefined) continue;
    const op = rng.int(4);
    if (data instanceof Int32Array || data instanceof Int8Array || data instanceof Float32Array || data instanceof Float64Array) {
      if (op === 0 && data.length > 1) {
        data.reverse();
        steps.push(`${col.name}:reverse`);
      } else if (op === 1 && data.length > 1) {
        data[data.length - 1] = data[0];
        steps.push(`${col.name}:duplicate-first`);
      } else steps.push(`${col.name}${setTyped(rng, data)}`);
    } else if (Array.isArray(data)) {
      const i = rng.int(Math.max(data.length, 1));
      if (data.length) data[i] = pick(rng, ['', '\uFFFD', '\u0000', 'x'.repeat(1000)]);
      steps.push(`${col.name}[${i}]=odd string`);
    } else if ('codes' in data) {
      const d = data as DictColumn;
      if (op === 0) {
        d.values = d.values.map((v) => v.toUpperCase());
        steps.push(`${col.name}:values upper-cased`);
      } else if (op === 1 && d.codes.length) {
        d.codes[rng.int(d.codes.length)] = -1;
        steps.push(`${col.name}:null code`);
      } else {
        d.values = [...d.values, 'bogus'];
        if (d.codes.length) d.codes[rng.int(d.codes.length)] = d.values.length - 1;
        steps.push(`${col.name}:unknown value`);
      }
    } else if ('offsets' in data) {
      const l = data as ListColumn<Int32Array | Float32Array | Float64Array>;
      if (op === 0 && l.values.length > 1) {
        l.values.reverse();
        steps.push(`${col.name}:values reversed`);
      } else if (op === 1 && l.offsets.length > 2) {
        // Move one interior offset: lists of this column no longer line up with its sibling list column.
        const r = 1 + rng.int(l.offsets.length - 2);
        if (l.offsets[r] > l.offsets[r - 1]) l.offsets[r]--;
        steps.push(`${col.name}:offset[${r}] moved`);
      } else steps.push(`${col.name}.values${setTyped(rng, l.values)}`);
    } else if ('dim' in data) {
      const v = data as VectorColumn;
      if (op === 0) {
        const rows = v.dim ? v.values.length / v.dim : 0;
        const dim = v.dim + 1;
        cols[col.name] = { dim, values: new Float32Array(rows * dim) };
        steps.push(`${col.name}:dim ${v.dim}->${dim}`);
      } else steps.push(`${col.name}.values${setTyped(rng, v.values)}`);
    }
  }
  if (rng.next() < 0.1) {
    const optional = spec.columns.filter((c) => cols[c.name] !== undefined);
    const drop = pick(rng, optional);
    delete cols[drop.name];
    steps.push(`drop column ${drop.name}`);
  }
  return steps;
}

/** Encode mutated columns; a spec-level encode error (e.g. a dropped required column) re-encodes as another table. */
function encodeLoose(spec: TableSpec, cols: Columns): Uint8Array | null {
  try {
    return encodeArrow(spec, cols, { command: 'fuzz', version: '0', seed: 0, config_hash: 'x' });
  } catch {
    const loose: TableSpec = { ...spec, columns: spec.columns.filter((c) => cols[c.name] !== undefined).map((c) => ({ ...c, optional: true })) };
    try {
      return encodeArrow(loose, cols, { command: 'fuzz', version: '0', seed: 0, config_hash: 'x' });
    } catch {
      return null;
    }
  }
}

// ---- targets ----------------------------------------------------------------------------------------------

/** A case's inputs, written under the case folder, and how to run the readers on them. */
interface Plan {
  input: string;
  steps: string[];
  execute: (run: CaseRun) => Promise<void>;
}

function planArrow(rng: Rng, corpus: Corpus, dir: string): Plan {
  const seed = pick(rng, corpus.arrow);
  const other = pick(rng, corpus.arrow);
  const m = mutateBytes(rng, seed.bytes, other.bytes);
  const file = path.join(dir, 'case.arrow');
  fs.writeFileSync(file, m.data);
  return { input: `${seed.name} (other: ${other.name})`, steps: m.steps, execute: (run) => readWithEverySpec(run, file) };
}

function planArrowValues(rng: Rng, dir: string): Plan {
  const spec = pick(rng, ALL_SPECS);
  const cols = validColumns(spec, 1 + rng.int(12), rng);
  const steps = mutateColumns(rng, spec, cols);
  const bytes = encodeLoose(spec, cols);
  const file = path.join(dir, 'case.arrow');
  if (bytes) fs.writeFileSync(file, bytes);
  return {
    input: `${spec.name} columns`,
    steps,
    execute: async (run) => {
      if (bytes) await readWithEverySpec(run, file);
      else run.outcomes['skip(unencodable)'] = 1;
    },
  };
}

const DATASET_ARROW = ['items.arrow', 'sequences_source.arrow', 'sequences_target.arrow', 'samples_source.arrow', 'samples_target.arrow'];
const DATASET_SPEC: Record<string, TableSpec> = Object.fromEntries(
  DATASET_ARROW.map((f) => [f, ALL_SPECS.find((s) => s.name === f.replace(/_(source|target)/, '').replace('.arrow', ''))!]),
);

function planDataset(rng: Rng, corpus: Corpus, dir: string): Plan {
  const files = new Map(corpus.dataset);
  const r = rng.next();
  const steps: string[] = [];
  if (r < 0.5) {
    const name = pick(rng, DATASET_ARROW);
    const other = files.get(pick(rng, DATASET_ARROW))!;
    const m = mutateBytes(rng, files.get(name)!, other);
    files.set(name, m.data);
    steps.push(`${name}: ${m.steps.join(', ')}`);
  } else if (r < 0.75) {
    const name = pick(rng, DATASET_ARROW);
    const spec = DATASET_SPEC[name];
    const cols = readArrowBytes(files.get(name)!, spec, dir);
    const s = mutateColumns(rng, spec, cols);
    const bytes = encodeLoose(spec, cols);
    if (bytes) files.set(name, bytes);
    steps.push(`${name}: ${s.join(', ')}`);
  } else if (r < 0.85) {
    const m = mutateText(rng, new TextDecoder().decode(files.get('dataset.json')!), ',');
    files.set('dataset.json', new TextEncoder().encode(m.data));
    steps.push(`dataset.json: ${m.steps.join(', ')}`);
  } else if (r < 0.93) {
    const a = pick(rng, [...files.keys()]);
    const b = pick(rng, [...files.keys()]);
    const fa = files.get(a)!;
    files.set(a, files.get(b)!);
    files.set(b, fa);
    steps.push(`swap ${a} <-> ${b}`);
  } else {
    const name = pick(rng, [...files.keys()]);
    files.delete(name);
    steps.push(`delete ${name}`);
  }
  const ds = path.join(dir, 'dataset');
  clearDir(ds);
  for (const [name, bytes] of files) fs.writeFileSync(path.join(ds, name), bytes);
  return {
    input: 'dataset folder',
    steps,
    execute: async (run) => {
      const loaded = await run.call('loadDataset', () => loadDataset(ds));
      if (!loaded) return;
      // A loaded dataset must answer history queries for every sample without throwing.
      await run.call('historyBefore', () => {
        for (const d of ['source', 'target'] as const) {
          const s = loaded.samples[d];
          for (let i = 0; i < s.count; i++) {
            const [a, b] = loaded.sequences[d].historyBefore(s.userId[i], s.ts[i], 50);
            if (!(a >= 0 && b >= a && b <= loaded.sequences[d].items.length)) throw new Error(`historyBefore returned [${a}, ${b})`);
          }
        }
      });
    },
  };
}

function readArrowBytes(bytes: Uint8Array, spec: TableSpec, dir: string): Columns {
  const file = path.join(dir, 'seed.arrow');
  fs.writeFileSync(file, bytes);
  return readArrow(file, spec).columns;
}

function planImport(rng: Rng, corpus: Corpus, dir: string): Plan {
  const input = pick(rng, corpus.text);
  const files = { ...input.files };
  const names = Object.keys(files);
  const steps: string[] = [];
  if (rng.next() < 0.93) {
    const name = pick(rng, names);
    const sep = name.endsWith('.csv') ? ',' : '\t';
    const m = mutateText(rng, files[name], sep);
    files[name] = m.data;
    steps.push(`${name}: ${m.steps.join(', ')}`);
  } else {
    const name = pick(rng, names);
    delete files[name];
    steps.push(`delete ${name}`);
  }
  const inDir = path.join(dir, 'input');
  const outDir = path.join(dir, 'prepared');
  clearDir(inDir);
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(inDir, name), text);
  return {
    input: `${input.name} input`,
    steps,
    execute: async (run) => {
      const result = await run.call('prepare', () => prepareDataset({ format: input.format, input: inDir, out: outDir, seed: 1 }));
      if (!result) return;
      // What prepare wrote must load: the importer accepted the input, so its dataset has to be valid.
      try {
        loadDataset(outDir);
      } catch (err) {
        run.finding('roundtrip(loadDataset of prepared output)', errorLine(err));
      }
    },
  };
}

function plan(seed: number, index: number, corpus: Corpus, dir: string): { target: Target; plan: Plan } {
  const rng = caseRng(seed, index);
  const target = pickTarget(rng);
  clearDir(dir);
  switch (target) {
    case 'arrow':
      return { target, plan: planArrow(rng, corpus, dir) };
    case 'arrow-values':
      return { target, plan: planArrowValues(rng, dir) };
    case 'dataset':
      return { target, plan: planDataset(rng, corpus, dir) };
    case 'import':
      return { target, plan: planImport(rng, corpus, dir) };
  }
}

/** Run case `index` of the run seeded `seed` in `dir` (a scratch folder the case clears and fills). */
export async function runCase(seed: number, index: number, corpus: Corpus, dir: string): Promise<CaseResult> {
  const { target, plan: p } = plan(seed, index, corpus, dir);
  const run = new CaseRun(index, target, p.input, p.steps);
  await p.execute(run);
  return run.result();
}

/** The inputs of a case without running the readers (for a case whose worker hung or died). */
export function describeCase(seed: number, index: number, corpus: Corpus, dir: string): { target: Target; input: string; steps: string[] } {
  const { target, plan: p } = plan(seed, index, corpus, dir);
  return { target, input: p.input, steps: p.steps };
}
