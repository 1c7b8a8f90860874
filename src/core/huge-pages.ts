/**
 * Large typed arrays on transparent huge pages, where the native addon is there to ask Linux for them (before
 * the array is first written). On these VMs a fresh 4 KiB page costs ~10 µs to fault in — 2.5 ms per MB, more
 * than reading the MB from the page cache — and a 2 MiB page ~1.4 ms per MB (measured; THP here is `always` but
 * only madvised regions get huge pages at once). Without the addon, or for small arrays, a plain array.
 */
import { nativeKernels } from './retrieval/native.js';

/** Below this, a plain allocation (a huge page only helps past a few of them). */
const HUGE_MIN_BYTES = 8 << 20;

type TypedCtor<T> = (new (n: number) => T) & { readonly BYTES_PER_ELEMENT: number };

/** `new ctor(length)` (on a SharedArrayBuffer when `shared`), advised onto huge pages when it spans at least HUGE_MIN_BYTES. */
export function hugeArray<T extends { buffer: ArrayBufferLike }>(ctor: TypedCtor<T>, length: number, shared = false): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  // every typed-array constructor also takes a buffer
  const array = shared ? new (ctor as unknown as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(bytes)) : new ctor(length);
  if (bytes >= HUGE_MIN_BYTES) {
    const buffer = array.buffer;
    nativeKernels()?.adviseHugePages(new Float32Array(buffer, 0, Math.floor(buffer.byteLength / 4)));
  }
  return array;
}
