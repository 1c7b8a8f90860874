import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, outFlag, shardFlag } from '../cli/flags.js';
import { PREDICT_FORMATS, predict, type PredictFormat, type PredictResult } from '../core/ctr/predict.js';
import type { BackendName } from '../core/engine/backend.js';
import { SPLITS, type Split } from '../core/schemas.js';

export default class Predict extends BaseCommand<typeof Predict> {
  static override summary = 'Score samples with a trained train-ctr model (any variant): the dataset\'s own, or new ones from a file.';
  static override description =
    'New samples: a .csv, .tsv or .parquet file with user (or user_id), item (or item_id), ts, and label if known, in gist\'s ids; their histories are the user\'s events before ts in --data. Variants that search (SIM, GIST) run the GSU for each sample with the embeddings the model\'s own gsu.arrow was searched with (or --gsu-embeddings); ASI reads the joint embeddings the model trained with (or --embeddings). Writes OUT/predictions.{arrow,parquet,csv}, OUT/gsu.arrow when searched, OUT/config.json. --shard i/n scores the users with user_id mod n = i (always Arrow); `gist merge` joins the shard folders into exactly the single-run files, in --format.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model work/demo/ctr-gist --data work/demo/data --split test --out work/demo/predict-gist',
    '<%= config.bin %> <%= command.id %> --model work/demo/ctr-gist --data work/demo/data --split test --shard 0/2 --out work/demo/predict-gist-0',
    '<%= config.bin %> export --data work/demo/data --split test --out work/demo/test-samples.csv && <%= config.bin %> <%= command.id %> --model work/demo/ctr-din --data work/demo/data --samples work/demo/test-samples.csv --format csv --out work/demo/predict-new --json',
  ];
  static override flags = {
    model: Flags.directory({ char: 'm', description: 'a train-ctr output folder (model/, config.json)', required: true, exists: true }),
    data: dataFlag,
    out: outFlag,
    samples: Flags.file({ description: 'new samples (.csv, .tsv, .parquet): user, item, ts[, label] in gist ids [default: the dataset\'s own samples]', exists: true }),
    split: Flags.string({ description: 'with the dataset\'s own samples: these splits only (repeatable) [default: all]', options: [...SPLITS], multiple: true }),
    'gsu-embeddings': Flags.file({ description: 'embeddings for the GSU search [default: those the model\'s gsu.arrow used]', exists: true }),
    embeddings: Flags.file({ description: 'joint embeddings for ASI [default: those the model trained with]', exists: true }),
    format: Flags.string({ description: 'predictions file format', options: [...PREDICT_FORMATS], default: 'arrow' }),
    shard: shardFlag('only the samples of users with user_id mod n = i (join with `gist merge`)'),
  };

  async run(): Promise<PredictResult> {
    const { flags } = this;
    const result = await predict({
      model: flags.model,
      data: flags.data,
      samples: flags.samples,
      splits: flags.split as Split[] | undefined,
      embeddings: flags['gsu-embeddings'],
      joint: flags.embeddings,
      out: flags.out,
      format: flags.format as PredictFormat,
      shard: flags.shard,
      seed: flags.seed,
      backend: flags.backend as BackendName,
      onProgress: this.progress(),
    });
    this.say(`${result.predictions}: ${result.rows} samples scored by a ${result.variant}${result.variant === 'gist' ? ` (asi ${result.asi})` : ''} model, mean score ${result.mean_score.toFixed(4)}`);
    if (result.gsu) this.say(`  searched with ${result.embeddings ?? 'categories (hard)'} → ${result.gsu}`);
    return result;
  }
}
