/**
 * Backend selection for every model in gist. Default is tfjs wasm (SIMD, one thread under Node)
 * with the kernel fixes from `kernels.ts`; 'cpu' is the pure-JS fallback; 'tensorflow' and
 * 'tensorflow-gpu' are opt-in native backends the user installs (they cannot be dependencies:
 * their install script downloads libtensorflow).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { GistError } from '../errors.js';
import { registerGradients } from './gradients.js';
import { registerCpuKernelFixes, registerWasmKernelFixes } from './kernels.js';
import { registerNativeAttention, unregisterNativeAttention } from './native-attention.js';
import { setNativeGemm } from './native-gemm.js';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';

export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'];

/** The requested backend cannot be loaded; the message says how to get it. */
export class BackendUnavailableError extends GistError {
  override readonly exitCode = 1;
  override readonly code: string = 'BACKEND_UNAVAILABLE';
}

const NATIVE: Record<'tensorflow' | 'tensorflow-gpu', { pkg: string; hint: string }> = {
  tensorflow: { pkg: '@tensorflow/tfjs-node', hint: 'Linux/macOS/Windows x64' },
  'tensorflow-gpu': { pkg: '@tensorflow/tfjs-node-gpu', hint: 'Linux x64, CUDA 11.x' },
};

let wasmPathsSet = false;
let quieted = false;

/** tfjs warnings (platform re-registration, kernel overrides, ...) would otherwise hit the console. */
function quietTfjs(): void {
  if (quieted) return;
  quieted = true;
  tf.env().set('PROD', true);
  // Native TensorFlow's C++ logging goes to stderr; keep only errors.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

/** Runs `f` with console.log/info sent to stderr, so library banners cannot corrupt JSON on stdout. */
async function withStdoutGuard<T>(f: () => Promise<T>): Promise<T> {
  const { log, info } = console;
  const toStderr = (...args: unknown[]): void => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  try {
    return await f();
  } finally {
    console.log = log;
    console.info = info;
  }
}

function ensureWasmPaths(): void {
  if (wasmPathsSet) return;
  const req = createRequire(import.meta.url);
  const dir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(dir + path.sep);
  wasmPathsSet = true;
}

async function importNative(name: 'tensorflow' | 'tensorflow-gpu'): Promise<string> {
  const { pkg, hint } = NATIVE[name];
  const howTo = `backend "${name}" needs ${pkg}: run \`npm install ${pkg}\` (${hint}) and retry`;
  let mod: { version?: Record<string, string> };
  try {
    const specifier: string = pkg; // a variable, so tsc does not try to resolve the optional package
    mod = (await import(specifier)) as { version?: Record<string, string> };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new BackendUnavailableError(howTo);
    // Installed but broken (e.g. native library mismatch): keep the first line of the cause.
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new BackendUnavailableError(`${howTo} (it failed to load: ${detail})`);
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    // The package loaded but registered its backend with another copy of tfjs-core.
    throw new BackendUnavailableError(`${howTo}; install the version matching @tensorflow/tfjs-core ${tf.version_core}`);
  }
  return mod.version?.[pkg.slice('@tensorflow/'.length)] ?? 'unknown';
}

/**
 * Selects the tfjs backend (default 'wasm'), registers gradients (see gradients.ts) and installs
 * our kernel fixes for it. Call once at startup, before building any model. Safe to call again.
 */
export async function initBackend(name: BackendName = 'wasm'): Promise<{ name: BackendName; version: string }> {
  quietTfjs();
  return withStdoutGuard(async () => {
    let version: string;
    let tfName: string;
    switch (name) {
      case 'wasm':
        ensureWasmPaths();
        tfName = 'wasm';
        version = version_wasm;
        break;
      case 'cpu':
        tfName = 'cpu';
        version = version_cpu;
        break;
      case 'tensorflow':
      case 'tensorflow-gpu':
        version = await importNative(name);
        tfName = 'tensorflow';
        break;
      default: {
        const never: never = name;
        throw new BackendUnavailableError(`unknown backend "${String(never)}" (expected one of ${BACKEND_NAMES.join(', ')})`);
      }
    }
    if (tf.getBackend() !== tfName) {
      const ok = await tf.setBackend(tfName);
      if (!ok) throw new BackendUnavailableError(`backend "${name}" failed to initialise`);
    }
    await tf.ready();
    // tfjs-core's Node bundle has no gradients; a native backend's full tfjs keeps its own.
    registerGradients();
    // After initialisation, so the stock kernels' setup (wasm function bindings) has run.
    if (tfName === 'wasm') registerWasmKernelFixes();
    if (tfName === 'cpu') registerCpuKernelFixes();
    registerNativeAttention();
    return { name, version };
  });
}

/**
 * Switches the native model kernels (attention scorer, GEMM) off or back on in this process, for benchmarks and
 * tests that compare them with tfjs's; users set GIST_NATIVE=0 instead.
 */
export function useNativeModelKernels(on: boolean): void {
  setNativeGemm(on);
  if (on) registerNativeAttention();
  else unregisterNativeAttention();
}
