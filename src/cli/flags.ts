/** Flags shared by several commands, declared once. */
import { Flags } from '@oclif/core';

export const dataFlag = Flags.directory({ char: 'd', description: 'prepared dataset folder (from `gist prepare` or `gist synth`)', required: true });
export const outFlag = Flags.directory({ char: 'o', description: 'output folder (created if missing)', required: true });
