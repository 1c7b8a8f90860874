/**
 * `gist merge`: join the folders of one sharded run (`--shard i/n`, i = 0..n−1) into the files one process writes,
 * byte for byte. The shards' config.json names the command; each step's own merge does the joining.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile } from './config.js';
import { UsageError } from './errors.js';
import { mergeEmbedShards } from './cbjt/embed.js';
import { mergePredictShards } from './ctr/predict.js';
import { mergeRanksShards } from './evaluate/evaluate.js';
import { mergeEsuShards } from './pairs/esu.js';
import { mergeGsuShards } from './retrieval/gsu.js';
import { checkShardSet, readShardPart, type ShardPart } from './shard.js';

export interface MergeResult {
  /** The command whose shards were merged. */
  command: string;
  out: string;
  /** The main output file. */
  file: string;
  shards: number;
  rows: number;
}

/** Each command's merge of its shard folders (search-gsu's, which reads gsu.arrow's metadata, is mergeGsuShards). */
const MERGERS: Record<string, (parts: ShardPart[], out: string) => Promise<{ file: string; rows: number }>> = {
  'extract-pairs': async (parts, out) => {
    const r = await mergeEsuShards(parts, out);
    return { file: r.outputs.pairs, rows: r.pairs };
  },
  embed: mergeEmbedShards,
  predict: mergePredictShards,
  evaluate: mergeRanksShards,
};

/** Commands whose `--shard` outputs `gist merge` joins. */
export const MERGEABLE_COMMANDS = ['search-gsu', ...Object.keys(MERGERS)];

function readJsonIfAny(file: string): Record<string, unknown> | null {
  return fs.existsSync(file) ? readJsonFile(file) : null;
}

export async function mergeShards(opts: { inputs: string[]; out: string }): Promise<MergeResult> {
  if (opts.inputs.length === 0) throw new UsageError('merge needs at least one shard folder');
  const first = opts.inputs[0];
  const dir = first.endsWith('.arrow') ? path.dirname(first) : first;
  const named = readJsonIfAny(path.join(dir, 'config.json'));
  // search-gsu shards carry their shard in gsu.arrow's metadata (also those written before config.json named it).
  if (named?.command === 'search-gsu' || (named?.command === undefined && fs.existsSync(path.join(dir, 'gsu.arrow')))) {
    return { command: 'search-gsu', ...(await mergeGsuShards(opts)) };
  }
  const parts = checkShardSet(opts.inputs.map(readShardPart));
  const command = parts[0].command;
  const merge = MERGERS[command];
  if (!merge) throw new UsageError(`${parts[0].dir}: shards of ${command} cannot be merged (mergeable: ${MERGEABLE_COMMANDS.join(', ')})`);
  const r = await merge(parts, opts.out);
  return { command, out: path.resolve(opts.out), file: r.file, shards: parts.length, rows: r.rows };
}
