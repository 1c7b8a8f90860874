/**
 * Every Arrow table gist reads or writes, declared once. Readers validate files against these specs
 * (src/core/arrow-io.ts); README's "Data model" section documents the same tables.
 */

export type ColumnKind =
  | 'int32'
  | 'int8'
  | 'float32'
  | 'float64'
  | 'utf8'
  | 'dict8' // Dictionary<Int8, Utf8>: small string enums (domain, split)
  | 'dict32' // Dictionary<Int32, Utf8>: categories
  | 'list_int32'
  | 'list_float32'
  | 'list_float64'
  | 'fsl_float32'; // FixedSizeList<Float32>: dense vectors

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Absent from the file is fine (optional features). */
  readonly optional?: boolean;
  /** Null entries allowed (dict32 nulls read back as code −1). */
  readonly nullable?: boolean;
  /** Float values (and list/vector elements) must be finite. */
  readonly finite?: boolean;
  /** Inclusive lower bound on numeric values. */
  readonly min?: number;
  /** Inclusive upper bound on numeric values. */
  readonly max?: number;
  readonly doc: string;
}

export interface TableSpec {
  readonly name: string;
  readonly doc: string;
  readonly columns: readonly ColumnSpec[];
}

/** Largest item id an embeddings or pairs file may name: readers index items by id in dense arrays. */
export const MAX_ITEM_ID = 2 ** 25 - 1;

export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];
export const DOMAINS = ['source', 'target'] as const;
export type Domain = (typeof DOMAINS)[number];

/** items.arrow — one row per item, dense ids 0..N−1 across both domains. */
export const ITEMS: TableSpec = {
  name: 'items',
  doc: 'Item catalogue of both domains; item_id is dense 0..N-1 and equals the row number.',
  columns: [
    { name: 'item_id', kind: 'int32', min: 0, doc: 'dense id, equals row number' },
    { name: 'domain', kind: 'dict8', doc: '"source" or "target"' },
    { name: 'title', kind: 'utf8', doc: 'first text field (title)' },
    { name: 'text', kind: 'utf8', doc: 'second text field (genres, tags, description); may be empty' },
    { name: 'category', kind: 'dict32', optional: true, nullable: true, doc: 'category name (hard search); null if unknown' },
    { name: 'content', kind: 'fsl_float32', optional: true, finite: true, doc: 'precomputed dense content vector (image or other features)' },
    { name: 'source_count', kind: 'int32', min: 0, doc: 'interactions in the source domain (training data only)' },
    { name: 'target_count', kind: 'int32', min: 0, doc: 'interactions in the target domain (training data only)' },
    { name: 'item_key', kind: 'utf8', optional: true, doc: "the item's own id in the imported data (`prepare`); absent for synthetic data" },
  ],
};

/** users.arrow — the users' own ids in the imported data (`prepare`), by dense user_id. Absent for synthetic data. */
export const USERS: TableSpec = {
  name: 'users',
  doc: "Each dense user_id's id in the imported data.",
  columns: [
    { name: 'user_id', kind: 'int32', min: 0, doc: 'dense id, equals row number' },
    { name: 'user_key', kind: 'utf8', doc: "the user's own id in the imported data" },
  ],
};

/** sequences_{source,target}.arrow — each user's events stored once, time-ascending. */
export const SEQUENCES: TableSpec = {
  name: 'sequences',
  doc: "One row per user: the user's events in one domain, sorted by time ascending.",
  columns: [
    { name: 'user_id', kind: 'int32', min: 0, doc: 'dense user id shared by both domains' },
    { name: 'items', kind: 'list_int32', min: 0, doc: 'item ids of the events' },
    { name: 'ts', kind: 'list_float64', finite: true, doc: 'event times (seconds, or positions), non-decreasing' },
  ],
};

/** samples_{source,target}.arrow — labelled impressions; history is sliced from sequences at read time. */
export const SAMPLES: TableSpec = {
  name: 'samples',
  doc: "Labelled samples; a sample's history is the user's events strictly before ts.",
  columns: [
    { name: 'sample_id', kind: 'int32', min: 0, doc: 'dense id, equals row number' },
    { name: 'user_id', kind: 'int32', min: 0, doc: 'user' },
    { name: 'item_id', kind: 'int32', min: 0, doc: 'candidate item' },
    { name: 'ts', kind: 'float64', finite: true, doc: 'impression time' },
    { name: 'label', kind: 'int8', min: 0, max: 1, doc: 'click (1) or not (0)' },
    { name: 'split', kind: 'dict8', doc: '"train", "valid" or "test"' },
    { name: 'p_true', kind: 'float32', optional: true, finite: true, min: 0, max: 1, doc: 'true click probability (synthetic data only)' },
  ],
};

/** content.arrow, behavior.arrow, joint.arrow, id_embeddings.arrow — one vector per item. */
export const EMBEDDINGS: TableSpec = {
  name: 'embeddings',
  doc: 'One vector per item.',
  columns: [
    { name: 'item_id', kind: 'int32', min: 0, max: MAX_ITEM_ID, doc: 'item' },
    { name: 'vector', kind: 'fsl_float32', finite: true, doc: 'embedding (L2-normalised for content/behavior/joint)' },
  ],
};

/** pairs.arrow — guidance i2i pairs from the ESU (eq. 8) or Swing. */
export const PAIRS: TableSpec = {
  name: 'pairs',
  doc: 'Item-to-item guidance pairs, duplicates merged.',
  columns: [
    { name: 'target_item', kind: 'int32', min: 0, max: MAX_ITEM_ID, doc: 'the ranked (target) item' },
    { name: 'related_item', kind: 'int32', min: 0, max: MAX_ITEM_ID, doc: 'most-attended history item (ESU) or Swing neighbour' },
    { name: 'attention', kind: 'float32', finite: true, doc: 'mean max-attention a_k (ESU) or Swing score' },
    { name: 'count', kind: 'int32', min: 1, doc: 'how many samples produced the pair' },
    { name: 'split', kind: 'dict8', optional: true, doc: 'split of the samples that produced the pair (ESU)' },
  ],
};

/**
 * esu-samples.arrow — one ESU shard's per-sample attention (`extract-pairs --shard i/n`): what `gist merge` needs to
 * merge pairs and statistics in sample order, exactly as one process does.
 */
export const ESU_SAMPLES: TableSpec = {
  name: 'esu_samples',
  doc: 'Per source sample of an ESU shard: the most-attended candidate and a_k (merged by `gist merge`).',
  columns: [
    { name: 'sample_id', kind: 'int32', min: 0, doc: 'source sample, ascending' },
    { name: 'status', kind: 'int8', min: 0, max: 2, doc: '0 fewer than R candidates, 1 history below --min-history, 2 attended' },
    { name: 'target_item', kind: 'int32', min: 0, max: MAX_ITEM_ID, doc: "the sample's item" },
    { name: 'related_item', kind: 'int32', min: -1, max: MAX_ITEM_ID, doc: 'most-attended candidate (−1 unless status 2)' },
    { name: 'attention', kind: 'float32', finite: true, doc: 'its attention a_k (0 unless status 2)' },
    { name: 'history_length', kind: 'int32', min: 0, doc: 'distinct items in the history before the sample' },
    { name: 'ts', kind: 'float64', finite: true, doc: 'sample time' },
    { name: 'split', kind: 'int8', min: 0, max: 2, doc: 'split code (0 train, 1 valid, 2 test)' },
  ],
};

/**
 * ranks.arrow — Recall@K's scoring half (`evaluate --shard i/n`, joined by `gist merge`, read by `evaluate --ranks`):
 * where each truth pair's related item ranks among the candidates, per embedding.
 */
export const EVAL_RANKS: TableSpec = {
  name: 'eval_ranks',
  doc: "Per embedding and truth pair: candidates scoring above the pair's related item, and ties.",
  columns: [
    { name: 'row', kind: 'int32', min: 0, doc: 'embedding · pairs + pair: the order one process writes' },
    { name: 'embedding', kind: 'utf8', doc: 'embedding name (--embeddings NAME=file)' },
    { name: 'pair', kind: 'int32', min: 0, doc: 'index of the pair among the scored truth pairs' },
    { name: 'greater', kind: 'int32', min: -1, doc: 'candidates scoring strictly higher (−1: the related item is no candidate)' },
    { name: 'ties', kind: 'int32', min: 0, doc: 'other candidates scoring exactly the same' },
  ],
};

/** predictions.arrow — scores of a CTR model on the valid and test splits. */
export const PREDICTIONS: TableSpec = {
  name: 'predictions',
  doc: 'Model scores per sample.',
  columns: [
    { name: 'sample_id', kind: 'int32', min: 0, doc: 'sample' },
    { name: 'user_id', kind: 'int32', min: 0, doc: 'user' },
    { name: 'item_id', kind: 'int32', min: 0, doc: 'item' },
    { name: 'label', kind: 'int8', min: 0, max: 1, doc: 'true label' },
    { name: 'score', kind: 'float32', finite: true, min: 0, max: 1, doc: 'predicted click probability' },
    { name: 'split', kind: 'dict8', doc: '"valid" or "test"' },
  ],
};

/** gsu.arrow — the GSU's top-K source items per target sample: ids and scores, never embeddings. */
export const GSU: TableSpec = {
  name: 'gsu',
  doc: 'Top-K searched source events per target sample, sorted by score descending.',
  columns: [
    { name: 'sample_id', kind: 'int32', min: 0, doc: 'target sample' },
    { name: 'items', kind: 'list_int32', min: 0, doc: 'searched source item ids' },
    { name: 'scores', kind: 'list_float32', finite: true, doc: 'cosine scores (hard mode: 1.0)' },
  ],
};

/**
 * planted.arrow — the synthetic world's hidden truth per item, written by `gist synth` beside the dataset. Only
 * the planted-truth diagnostics of `gist evaluate` read it; no trainer does (a test checks).
 */
export const PLANTED: TableSpec = {
  name: 'planted',
  doc: "Synthetic data only: each item's planted topic and sub-topic (diagnostics, never model input).",
  columns: [
    { name: 'item_id', kind: 'int32', min: 0, max: MAX_ITEM_ID, doc: 'item id (row = id)' },
    { name: 'topic', kind: 'int32', min: 0, doc: 'planted topic' },
    { name: 'subtopic', kind: 'int32', min: 0, doc: 'planted global sub-topic (topic · subtopics + s), shared by both domains' },
  ],
};

/** A column of SAMPLES by name, for tables that carry samples (one definition of each column). */
function sampleColumn(name: string, change: Partial<ColumnSpec> = {}): ColumnSpec {
  const c = SAMPLES.columns.find((x) => x.name === name);
  if (!c) throw new Error(`SAMPLES has no column ${name}`);
  return { ...c, ...change };
}

/** The data's own ids beside gist's dense ones (imported data only: items.arrow item_key, users.arrow). */
const OWN_ID_COLUMNS: readonly ColumnSpec[] = [
  { name: 'user_key', kind: 'utf8', optional: true, doc: "the user's own id in the imported data" },
  { name: 'item_key', kind: 'utf8', optional: true, doc: "the item's own id in the imported data" },
];

/**
 * `gist export --format parquet` — one domain's samples with their histories joined in as lists (the CSV/TSV export
 * has the same columns, lists `^`-joined), for trainers outside gist (pandas, PyTorch, FuxiCTR).
 */
export const EXPORTED_SAMPLES: TableSpec = {
  name: 'exported_samples',
  doc: "Samples with each one's history strictly before ts (most recent last).",
  columns: [
    sampleColumn('sample_id', { doc: "the dataset's sample id" }),
    ...['user_id', 'item_id', 'label', 'split', 'ts'].map((n) => sampleColumn(n)),
    { name: 'hist_items', kind: 'list_int32', min: 0, doc: 'same-domain items before ts' },
    { name: 'hist_ts', kind: 'list_float64', doc: 'their times' },
    { name: 'cross_items', kind: 'list_int32', optional: true, min: 0, doc: 'other-domain items before ts (--cross-history)' },
    { name: 'cross_ts', kind: 'list_float64', optional: true, doc: 'their times' },
    { name: 'gsu_items', kind: 'list_int32', optional: true, min: 0, doc: 'source items the GSU searched for the sample, best first (--gsu)' },
    { name: 'gsu_scores', kind: 'list_float32', optional: true, finite: true, doc: 'their scores' },
    sampleColumn('p_true'),
    ...OWN_ID_COLUMNS,
  ],
};

/** `gist predict`'s predictions.arrow (also written as Parquet or CSV): one score per sample scored. */
export const PREDICTED: TableSpec = {
  name: 'predicted',
  doc: 'Scores of a trained train-ctr model for the dataset\'s samples or new ones.',
  columns: [
    sampleColumn('sample_id', { doc: "row of --samples, or the dataset's sample id" }),
    ...['user_id', 'item_id'].map((n) => sampleColumn(n)),
    sampleColumn('ts', { doc: 'impression time (the history is the events before it)' }),
    { name: 'score', kind: 'float32', finite: true, min: 0, max: 1, doc: 'predicted click probability' },
    sampleColumn('label', { optional: true, doc: 'true label, when every sample had one' }),
    sampleColumn('split', { optional: true, doc: "the dataset's split (its own samples only)" }),
    ...OWN_ID_COLUMNS,
  ],
};

export const ALL_SPECS: readonly TableSpec[] = [ITEMS, USERS, SEQUENCES, SAMPLES, EMBEDDINGS, PAIRS, ESU_SAMPLES, EVAL_RANKS, PREDICTIONS, GSU, PLANTED, EXPORTED_SAMPLES, PREDICTED];
