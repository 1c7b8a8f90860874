/** Shared helpers for the data tests: real dataset location, temp folders, and running a command from sources. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The real datasets: $GIST_DATASETS, else ../shared/datasets beside the repository. Missing is a failure, not a skip. */
export function datasetDir(name: string): string {
  const base = process.env.GIST_DATASETS ?? path.resolve(ROOT, '../shared/datasets');
  const dir = path.join(base, name);
  if (!fs.existsSync(dir)) throw new Error(`dataset ${dir} not found: set GIST_DATASETS to the folder holding food-kitchen/ and movielens-small/`);
  return dir;
}

export function tmpDir(prefix = 'gist-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs `gist <command> ...args` from sources (no build, no manifest) in a child process. */
export function gist(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const runner = `import { handle } from '@oclif/core'; const { default: C } = await import('./src/commands/${command}.ts'); await C.run(process.argv.slice(1), { root: process.cwd() }).catch(handle);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner, '--', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file of a folder as name → bytes. */
export function folderBytes(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of fs.readdirSync(dir).sort()) out.set(f, fs.readFileSync(path.join(dir, f)));
  return out;
}
