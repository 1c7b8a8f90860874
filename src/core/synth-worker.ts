/** Worker thread of `gist synth` for large worlds: rebuilds the world from (config, seed), then generates blocks of users. */
import { parentPort, workerData } from 'node:worker_threads';
import { blockBuffers, generateUsers, userGenerator, type SynthConfig } from './synth.js';

const { cfg, seed } = workerData as { cfg: SynthConfig; seed: number };
const generator = userGenerator(cfg, seed);
parentPort?.postMessage('ready');
parentPort?.on('message', (task: { from: number; to: number }) => {
  const block = generateUsers(generator, task.from, task.to);
  parentPort?.postMessage(block, blockBuffers(block));
});
