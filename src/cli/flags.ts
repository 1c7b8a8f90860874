/** Flags shared by several commands, declared once. */
import { Flags } from '@oclif/core';
import { UsageError } from '../core/errors.js';

export const dataFlag = Flags.directory({ char: 'd', description: 'prepared dataset folder (from `gist prepare` or `gist synth`)', required: true });
export const outFlag = Flags.directory({ char: 'o', description: 'output folder (created if missing)', required: true });

/** A floating-point flag (oclif has integers only). */
export const numberFlag = Flags.custom<number>({
  parse: async (s: string) => {
    const x = Number(s);
    if (s.trim() === '' || !Number.isFinite(x)) throw new UsageError(`expected a number, got "${s}"`);
    return x;
  },
});

/** `--config FILE` of the train-* commands: repeat an earlier run from the config.json it wrote. */
export const recordFlag = Flags.file({
  description: "an earlier run's config.json (this command's): repeat its settings and seed; flags given here override them",
  exists: true,
});

/** `--split` (repeatable; `--split train,valid` and the old `--splits` also accepted): which splits' samples. */
export const splitFlag = (description: string) =>
  Flags.string({ description: `${description} (repeatable) [default: all]`, multiple: true, aliases: ['splits'], deprecateAliases: true });

/** The splits named by --split values (comma lists allowed); undefined = all. */
export function splitsOf(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  const out = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return out.includes('all') ? undefined : out;
}

/** `--shard i/n` of the data-parallel commands: one of n disjoint parts, joined by `gist merge`. */
export const shardFlag = (description: string) => Flags.string({ description: `i/n (0 ≤ i < n): ${description}`, helpGroup: 'SHARDING' });
