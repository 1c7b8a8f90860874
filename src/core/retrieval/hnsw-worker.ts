/**
 * Worker thread for the HNSW index: builds shards (workerData.mode 'build'), or loads every shard once and
 * answers query batches (workerData.mode 'search').
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ShardSet, buildShard, type ShardBuildTask, type ShardSearchTask } from './hnsw-shard.js';

const data = workerData as { mode: 'build' } | { mode: 'search'; files: string[]; dim: number; ef: number };
const shards = data.mode === 'search' ? new ShardSet(data.files, data.dim, data.ef) : null;
parentPort?.postMessage('ready');
parentPort?.on('message', (task: ShardBuildTask | ShardSearchTask) => {
  if (task.type === 'build') parentPort?.postMessage(buildShard(task));
  else {
    const r = (shards as ShardSet).search(task);
    parentPort?.postMessage(r, [r.labels.buffer, r.distances.buffer] as ArrayBuffer[]);
  }
});
