/** Worker thread for `gist search-gsu`: attaches to the shared inputs once, then answers GsuTask messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { GsuSearcher, type GsuContextData, type GsuTask } from './gsu-task.js';

const searcher = new GsuSearcher(workerData as GsuContextData);
parentPort?.postMessage('ready');
parentPort?.on('message', (task: GsuTask) => {
  const r = searcher.run(task);
  parentPort?.postMessage(r, [r.samples.buffer, r.counts.buffer, r.items.buffer, r.scores.buffer] as ArrayBuffer[]);
});
