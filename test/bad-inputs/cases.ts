/**
 * The bad-input catalogue, one entry per row of README.md (a test keeps the two in step). Paths are relative to
 * the fixture work folder that catalogue.test.ts builds and runs the CLI in.
 */
export interface Case {
  n: number;
  command: string;
  title: string;
  args: string[];
  exit: number;
  /** The one-line message must match (file, column and row where they apply). */
  message: RegExp;
  /** Output path (folder or file) that must be absent/empty when new, or unchanged when it existed. */
  out?: string;
  env?: Record<string, string>;
  /** Also run without --json and check stderr is exactly one `error: …` line. */
  human?: boolean;
  /** A known bug in the command (reported): the case runs as a node:test TODO until it is fixed. */
  todo?: string;
}

const DS = (name: string): string => `ds/${name}`;

/**
 * Every case, in README order. Paths are relative to the fixture work folder (the CLI's cwd). A case whose --out
 * is an existing folder gets a folder of its own (cases run concurrently and other cases hash their inputs).
 */
export const CASES: Case[] = [
  // Arrow readers, through `gist info`
  { n: 1, command: 'info', title: 'empty file', args: ['arrow/empty.arrow'], exit: 3, message: /^arrow\/empty\.arrow: empty file/, human: true },
  { n: 2, command: 'info', title: 'truncated Arrow file', args: ['arrow/truncated.arrow'], exit: 3, message: /^arrow\/truncated\.arrow: truncated Arrow file/ },
  { n: 3, command: 'info', title: 'a CSV renamed .arrow', args: ['arrow/items-csv.arrow'], exit: 3, message: /^arrow\/items-csv\.arrow: not a readable Arrow IPC file/ },
  { n: 4, command: 'info', title: 'input path is a folder', args: ['data'], exit: 4, message: /^data: is a directory/ },
  { n: 5, command: 'info', title: 'unreadable input path (missing file)', args: ['arrow/missing.arrow'], exit: 4, message: /^arrow\/missing\.arrow: cannot read \(ENOENT\)/ },
  // Predictions and embeddings, through `gist evaluate`
  { n: 6, command: 'evaluate', title: 'missing column', args: ['preds/no-label.arrow'], exit: 3, message: /^preds\/no-label\.arrow, column label: missing column/ },
  { n: 7, command: 'evaluate', title: 'wrong column type (score float64)', args: ['preds/score-f64.arrow'], exit: 3, message: /^preds\/score-f64\.arrow, column score: wrong type Float64, expected float32/ },
  { n: 8, command: 'evaluate', title: 'label ∉ {0,1}', args: ['preds/label2.arrow'], exit: 3, message: /^preds\/label2\.arrow, column label, row 5: value 2 outside \[0, 1\]/ },
  { n: 9, command: 'evaluate', title: 'NaN score', args: ['preds/score-nan.arrow'], exit: 3, message: /^preds\/score-nan\.arrow, column score, row 3: non-finite value NaN/ },
  { n: 10, command: 'evaluate', title: 'another table kind (samples file as predictions)', args: ['data/samples_target.arrow'], exit: 3, message: /^data\/samples_target\.arrow, column score: missing column \(expected predictions table\)/ },
  { n: 11, command: 'evaluate', title: 'K ≤ 0 (--ks 0)', args: ['preds/din.arrow', '--ks', '0'], exit: 2, message: /--ks must be positive integers, got 0/, human: true },
  { n: 12, command: 'evaluate', title: 'disk full while writing --save-metrics', args: ['preds/din.arrow', '--save-metrics', 'cases/12/metrics.json'], out: 'cases/12/metrics.json', env: { GIST_TEST_FAIL_WRITE_AFTER_BYTES: '64' }, exit: 4, message: /cases\/12\/metrics\.json: cannot write \(ENOSPC\)/ },
  { n: 13, command: 'evaluate', title: 'item id out of range in embeddings (--data)', args: ['--embeddings', 'emb/joint-bigid.arrow', '--pairs', 'emb/pairs.arrow', '--data', 'data'], exit: 3, message: /^emb\/joint-bigid\.arrow, column item_id, row 17: (item id 2147483000 out of range|value 2147483000 outside \[0, 33554431\])/ },
  // Prepared dataset folders, through `gist export` (loadDataset)
  { n: 14, command: 'export', title: 'duplicate item ids (item_id ≠ row)', args: ['--data', DS('items-dup'), '--out', 'cases/14/out.csv'], out: 'cases/14/out.csv', exit: 3, message: /^ds\/items-dup\/items\.arrow, column item_id, row 5: item_id 4 must equal its row number/ },
  { n: 15, command: 'export', title: 'unsorted event times', args: ['--data', DS('seq-unsorted'), '--out', 'cases/15/out.csv'], out: 'cases/15/out.csv', exit: 3, message: /^ds\/seq-unsorted\/sequences_source\.arrow, column ts, row 0: times not sorted ascending/ },
  { n: 16, command: 'export', title: 'event item id out of range', args: ['--data', DS('seq-item-range'), '--out', 'cases/16/out.csv'], out: 'cases/16/out.csv', exit: 3, message: /^ds\/seq-item-range\/sequences_target\.arrow, column items, row 0: item id 300 out of range \(300 items\)/ },
  { n: 17, command: 'export', title: 'duplicate user ids', args: ['--data', DS('seq-dup-user'), '--out', 'cases/17/out.csv'], out: 'cases/17/out.csv', exit: 3, message: /^ds\/seq-dup-user\/sequences_source\.arrow, column user_id, row 3: duplicate user_id/ },
  { n: 18, command: 'export', title: 'sample label ∉ {0,1}', args: ['--data', DS('samples-label'), '--out', 'cases/18/out.csv'], out: 'cases/18/out.csv', exit: 3, message: /^ds\/samples-label\/samples_target\.arrow, column label, row 7: value 2 outside \[0, 1\]/ },
  { n: 19, command: 'export', title: 'NaN sample time', args: ['--data', DS('samples-nan-ts'), '--out', 'cases/19/out.csv'], out: 'cases/19/out.csv', exit: 3, message: /^ds\/samples-nan-ts\/samples_source\.arrow, column ts, row 4: non-finite value NaN/ },
  { n: 20, command: 'export', title: 'unknown sample item id', args: ['--data', DS('samples-item-unknown'), '--out', 'cases/20/out.csv'], out: 'cases/20/out.csv', exit: 3, message: /^ds\/samples-item-unknown\/samples_target\.arrow, column item_id, row 9: item id 9999 out of range/ },
  { n: 21, command: 'export', title: 'user id far beyond the users (not dense)', args: ['--data', DS('user-not-dense'), '--out', 'cases/21/out.csv'], out: 'cases/21/out.csv', exit: 3, message: /^ds\/user-not-dense\/samples_target\.arrow, column user_id, row 2: user_id 1073741824 is not a dense id/ },
  { n: 22, command: 'export', title: 'Inf in content vectors', args: ['--data', DS('content-inf'), '--out', 'cases/22/out.csv'], out: 'cases/22/out.csv', exit: 3, message: /^ds\/content-inf\/items\.arrow, column content, row 6: non-finite value Infinity/ },
  { n: 23, command: 'export', title: 'a sequences file as items.arrow', args: ['--data', DS('items-wrong-table'), '--out', 'cases/23/out.csv'], out: 'cases/23/out.csv', exit: 3, message: /^ds\/items-wrong-table\/items\.arrow, column item_id: missing column \(expected items table\)/ },
  { n: 24, command: 'export', title: 'no dataset.json', args: ['--data', DS('no-manifest'), '--out', 'cases/24/out.csv'], out: 'cases/24/out.csv', exit: 3, message: /^ds\/no-manifest: missing dataset\.json/ },
  { n: 25, command: 'export', title: 'unreadable input path (no such dataset folder)', args: ['--data', 'ds/missing', '--out', 'cases/25/out.csv'], out: 'cases/25/out.csv', exit: 4, message: /^ds\/missing: no such dataset folder/ },
  // Importers, through `gist prepare`
  { n: 26, command: 'prepare', title: 'food-kitchen: malformed line (non-numeric item id)', args: ['-f', 'food-kitchen', '-i', 'raw/fk-malformed', '-o', 'cases/26/out'], out: 'cases/26/out', exit: 3, message: /^raw\/fk-malformed\/train_overlap\.txt, column items, row 2: non-numeric item id "zz"/ },
  { n: 27, command: 'prepare', title: 'food-kitchen: user with no events', args: ['-f', 'food-kitchen', '-i', 'raw/fk-no-events', '-o', 'cases/27/out'], out: 'cases/27/out', exit: 3, message: /^raw\/fk-no-events\/train_A\.txt, column items, row 3: empty item id/ },
  { n: 28, command: 'prepare', title: 'food-kitchen: item id out of range', args: ['-f', 'food-kitchen', '-i', 'raw/fk-item-range', '-o', 'cases/28/out'], out: 'cases/28/out', exit: 3, message: /^raw\/fk-item-range\/train_B\.txt, column items, row 3: item id 99 out of range/ },
  { n: 29, command: 'prepare', title: 'movielens: NaN rating', args: ['-f', 'movielens', '-i', 'raw/ml-nan', '-o', 'cases/29/out'], out: 'cases/29/out', exit: 3, message: /^raw\/ml-nan\/ratings\.csv, column rating, row 3: non-numeric rating "NaN"/ },
  { n: 30, command: 'prepare', title: 'movielens: unknown movieId', args: ['-f', 'movielens', '-i', 'raw/ml-unknown', '-o', 'cases/30/out'], out: 'cases/30/out', exit: 3, message: /^raw\/ml-unknown\/ratings\.csv, column movieId, row 44: movieId 999 is not in movies\.csv/ },
  { n: 31, command: 'prepare', title: 'tsv: label ∉ {0,1}', args: ['-f', 'tsv', '-i', 'raw/tsv-label', '-o', 'cases/31/out'], out: 'cases/31/out', exit: 3, message: /^raw\/tsv-label\/events\.tsv, column label, row 3: label "2" is not 1, 0 or empty/ },
  { n: 32, command: 'prepare', title: 'tsv: NaN in content vectors', args: ['-f', 'tsv', '-i', 'raw/tsv-nan', '-o', 'cases/32/out'], out: 'cases/32/out', exit: 3, message: /^raw\/tsv-nan\/items\.tsv, column content, row 4: non-numeric content value "NaN"/ },
  { n: 33, command: 'prepare', title: 'tsv: content dimension differs between rows', args: ['-f', 'tsv', '-i', 'raw/tsv-dim', '-o', 'cases/33/out'], out: 'cases/33/out', exit: 3, message: /^raw\/tsv-dim\/items\.tsv, column content, row 5: content has 2 values, expected 3/ },
  { n: 34, command: 'prepare', title: 'tsv: duplicate item ids', args: ['-f', 'tsv', '-i', 'raw/tsv-dup', '-o', 'cases/34/out'], out: 'cases/34/out', exit: 3, message: /^raw\/tsv-dup\/items\.tsv, column item, row 14: duplicate item id "it1"/ },
  { n: 35, command: 'prepare', title: 'tsv: missing column (no ts)', args: ['-f', 'tsv', '-i', 'raw/tsv-no-ts', '-o', 'cases/35/out'], out: 'cases/35/out', exit: 3, message: /^raw\/tsv-no-ts\/events\.tsv, column ts, row 1: missing column "ts"/ },
  { n: 36, command: 'prepare', title: 'tsv: empty events file', args: ['-f', 'tsv', '-i', 'raw/tsv-empty', '-o', 'cases/36/out'], out: 'cases/36/out', exit: 3, message: /^raw\/tsv-empty\/events\.tsv: no events/ },
  { n: 37, command: 'prepare', title: 'unreadable input path (no such folder)', args: ['-f', 'tsv', '-i', 'raw/missing', '-o', 'cases/37/out'], out: 'cases/37/out', exit: 4, message: /^raw\/missing: cannot read input folder \(ENOENT\)/ },
  { n: 38, command: 'prepare', title: 'output dir = input dir', args: ['-f', 'tsv', '-i', 'raw/tsv-same', '-o', 'raw/tsv-same'], out: 'raw/tsv-same', exit: 2, message: /--out raw\/tsv-same is also an input folder/ },
  { n: 39, command: 'prepare', title: 'disk full during the write', args: ['-f', 'tsv', '-i', 'raw/tsv-ok', '-o', 'cases/39/out'], out: 'cases/39/out', env: { GIST_TEST_FAIL_WRITE_AFTER_BYTES: '0' }, exit: 4, message: /cannot write \(ENOSPC\)/ },
  // synth and pipeline
  { n: 40, command: 'synth', title: 'bad preset', args: ['--preset', 'huge', '-o', 'cases/40/out'], out: 'cases/40/out', exit: 2, message: /--preset=huge to be one of: tiny, small, paper/ },
  { n: 41, command: 'synth', title: 'config with an unknown key', args: ['--preset', 'tiny', '--config', 'cfg/synth-unknown-key.json', '-o', 'cases/41/out'], out: 'cases/41/out', exit: 2, message: /unknown key "bogus"/ },
  { n: 42, command: 'synth', title: 'unwritable output dir (--out is a file)', args: ['--preset', 'tiny', '-o', 'cfg/a-file'], out: 'cfg/a-file', exit: 4, message: /^cfg\/a-file: cannot write output folder \(ENOTDIR\)/, human: true },
  { n: 43, command: 'pipeline', title: 'config with an unknown key', args: ['--config', 'cfg/pipeline-unknown-key.json', '-o', 'cases/43/out'], out: 'cases/43/out', exit: 2, message: /cfg\/pipeline-unknown-key\.json: unknown key "bogus"/ },
  // GSU search and index
  { n: 44, command: 'search-gsu', title: 'K ≤ 0', args: ['-d', 'data', '-e', 'emb/joint.arrow', '-k', '0', '-o', 'cases/44/out'], out: 'cases/44/out', exit: 2, message: /--k must be a positive integer, got 0/ },
  { n: 45, command: 'search-gsu', title: 'NaN in embeddings', args: ['-d', 'data', '-e', 'emb/joint-nan.arrow', '-o', 'cases/45/out'], out: 'cases/45/out', exit: 3, message: /^emb\/joint-nan\.arrow, column vector, row 7: non-finite value NaN/ },
  { n: 46, command: 'search-gsu', title: 'embeddings lack items the data needs', args: ['-d', 'data', '-e', 'emb/joint-few.arrow', '-o', 'cases/46/out'], out: 'cases/46/out', exit: 3, message: /^emb\/joint-few\.arrow, column item_id: no vector for item \d+/ },
  { n: 47, command: 'search-gsu', title: 'output dir = input dir', args: ['-d', 'data-same', '-e', 'emb/joint.arrow', '-o', 'data-same'], out: 'data-same', exit: 2, message: /--out data-same is also an input folder/ },
  { n: 48, command: 'build-index', title: 'embedding dimension mismatch between files (--add)', args: ['--index', 'idx', '--add', 'emb/joint4.arrow', '-o', 'cases/48/out', '--threads', '0'], out: 'cases/48/out', exit: 3, message: /^emb\/joint4\.arrow, column vector: dimension 4 does not match the expected 8/ },
  // Pairs and models
  { n: 49, command: 'extract-pairs', title: 'θ ∉ (0,1] (θ = 0)', args: ['-d', 'data', '-o', 'cases/49/out', '--method', 'esu', '--model', 'models/content', '--theta', '0'], out: 'cases/49/out', exit: 2, message: /--theta must be in \(0, 1\], got 0/ },
  { n: 50, command: 'extract-pairs', title: 'θ ∉ (0,1] (θ = 1.5)', args: ['-d', 'data', '-o', 'cases/50/out', '--method', 'esu', '--model', 'models/content', '--theta', '1.5'], out: 'cases/50/out', exit: 2, message: /--theta must be in \(0, 1\], got 1\.5/ },
  { n: 51, command: 'extract-pairs', title: 'a model dir from another command (train-content)', args: ['-d', 'data', '-o', 'cases/51/out', '--method', 'esu', '--model', 'models/content'], out: 'cases/51/out', exit: 3, message: /^models\/content\/model\/config\.json: no model config \(not a train-ctr model folder\)/ },
  { n: 52, command: 'extract-pairs', title: 'disk full during the write', args: ['-d', 'data', '-o', 'cases/52/out', '--method', 'swing'], out: 'cases/52/out', env: { GIST_TEST_FAIL_WRITE_AFTER_BYTES: '100' }, exit: 4, message: /pairs\.arrow: cannot write \(ENOSPC\)/ },
  { n: 53, command: 'train-ctr', title: 'M1 < 2', args: ['-d', 'data', '-o', 'cases/53/out', '--m1', '1'], out: 'cases/53/out', exit: 2, message: /--m1/ },
  { n: 54, command: 'train-ctr', title: 'M2 < 2', args: ['-d', 'data', '-o', 'cases/54/out', '--m2', '0'], out: 'cases/54/out', exit: 2, message: /--m2/ },
  { n: 55, command: 'train-ctr', title: '--resume in a model dir from another command', args: ['-d', 'data', '-o', 'models/content-resume', '--resume'], out: 'models/content-resume', exit: 2, message: /--resume: no checkpoint in models\/content-resume/ },
  { n: 56, command: 'embed', title: 'a model dir from another command (encoder as union model)', args: ['--union-model', 'models/content/model', '--items', 'data/items.arrow', '-o', 'cases/56/out'], out: 'cases/56/out', exit: 3, message: /^models\/content\/model\/config\.json: not a gist union model/ },
  { n: 57, command: 'train-union', title: 'an embeddings file as --pairs', args: ['-d', 'data', '--pairs', 'emb/joint.arrow', '--content', 'emb/joint.arrow', '--behavior', 'emb/joint.arrow', '-o', 'cases/57/out'], out: 'cases/57/out', exit: 3, message: /^emb\/joint\.arrow, column target_item: missing column \(expected pairs table\)/ },
  { n: 58, command: 'train-behavior', title: 'items.arrow as --id-embeddings', args: ['-d', 'data', '--id-embeddings', 'data/items.arrow', '-o', 'cases/58/out'], out: 'cases/58/out', exit: 3, message: /^data\/items\.arrow, column vector: missing column \(expected embeddings table\)/ },
  { n: 59, command: 'merge', title: 'a folder from another command as a shard', args: ['models/content', 'idx', '-o', 'cases/59/out'], out: 'cases/59/out', exit: 3, message: /^models\/content\/config\.json, column shard: not a --shard output \(no shard in its config\.json\)/ },
  { n: 60, command: 'merge', title: 'an embeddings file as a shard', args: ['emb/joint.arrow', 'emb/joint4.arrow', '-o', 'cases/60/out'], out: 'cases/60/out', exit: 3, message: /^emb\/joint\.arrow: not a shard folder \(give the output folder of a --shard run\)/ },
  {
    n: 61,
    command: 'evaluate',
    title: 'item id out of range in embeddings (no --data)',
    args: ['--embeddings', 'emb/joint-bigid.arrow', '--pairs', 'emb/pairs.arrow'],
    exit: 3,
    message: /^emb\/joint-bigid\.arrow, column item_id, row 17: /,
  },
  {
    n: 62,
    command: 'search-gsu',
    title: 'unreadable input path (missing --embeddings file)',
    args: ['-d', 'data', '-e', 'emb/missing.arrow', '-o', 'cases/62/out'],
    out: 'cases/62/out',
    exit: 4,
    message: /emb\/missing\.arrow/,
  },
  // The encoders check OUT before training, not after it (minutes on real data).
  { n: 63, command: 'train-content', title: 'unwritable output dir (under a file), caught before training', args: ['-d', 'data', '-o', 'cfg/a-file/out'], exit: 4, message: /^cfg\/a-file\/out: cannot write output folder \(ENOTDIR\)/ },
  { n: 64, command: 'train-union', title: 'unwritable output dir (under a file), caught before training', args: ['-d', 'data', '--pairs', 'emb/pairs.arrow', '--content', 'emb/joint.arrow', '--behavior', 'emb/joint.arrow', '-o', 'cfg/a-file/out'], exit: 4, message: /^cfg\/a-file\/out: cannot write output folder \(ENOTDIR\)/ },
  { n: 65, command: 'search-gsu', title: '--k far past any history', args: ['-d', 'data', '-e', 'emb/joint.arrow', '-k', '100000000', '-o', 'cases/65/out'], out: 'cases/65/out', exit: 2, message: /^--k must be at most 100000 / },
  { n: 66, command: 'search-gsu', title: '--embeddings with --mode hard (ignored flag)', args: ['-d', 'data', '--mode', 'hard', '-e', 'emb/joint.arrow', '-o', 'cases/66/out'], out: 'cases/66/out', exit: 2, message: /^--mode hard searches by category and does not read --embeddings/ },
  { n: 67, command: 'train-ctr', title: '--gsu with --variant din (ignored flag)', args: ['-d', 'data', '--variant', 'din', '--gsu', 'emb/joint.arrow', '-o', 'cases/67/out'], out: 'cases/67/out', exit: 2, message: /^--variant din does not read --gsu/ },
  { n: 68, command: 'export', title: '--format contradicts the file extension', args: ['--data', 'data', '--format', 'tsv', '-o', 'cases/68/out.csv'], out: 'cases/68/out.csv', exit: 2, message: /^--format tsv does not match the file name \"cases\/68\/out\.csv\"/ },
  { n: 69, command: 'export', title: 'output is a folder', args: ['--data', 'data', '--format', 'csv', '-o', 'cfg'], exit: 4, message: /^cfg: is a folder; give a file name/ },
  { n: 70, command: 'synth', title: 'output under /proc (mkdir -p would spin)', args: ['--preset', 'tiny', '-o', '/proc/gist-bad-input'], exit: 4, message: /^\/proc\/gist-bad-input: cannot write output folder \(ENOENT\)/ },
];
