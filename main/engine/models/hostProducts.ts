// Matrix products of Float32Arrays on the host (the learned objective's dual tape, ../rl/metagenrl/dualTape.ts):
// the WebAssembly SIMD kernels gemmAcc and gemmTransBAcc (./simd/kernels.ts) on a private memory, the operands
// copied in and the result out. The tape's matrices are small (k and n of 2-64), where a copy costs a fraction of
// the product and a tfjs kernel call more than either. Where WebAssembly SIMD is missing, plain loops do the same.
import { instantiate, simdModule, type SimdExports } from './simd/kernels.js';

let enabled = true;
let heap: { memory: WebAssembly.Memory; f32: Float32Array; k: SimdExports } | null = null;

/** Turns the SIMD products off (plain loops) or back on: for tests and the benchmark. */
export function setHostSimd(on: boolean): void {
  enabled = on;
}

/** The private heap with room for `floats` floats, or null where the loops run. */
function heapFor(floats: number): { f32: Float32Array; k: SimdExports } | null {
  if (!enabled || !simdModule()) return null;
  if (!heap) {
    const memory = new WebAssembly.Memory({ initial: 16 });
    heap = { memory, f32: new Float32Array(memory.buffer), k: instantiate(memory) };
  }
  const need = floats * 4 - heap.memory.buffer.byteLength;
  if (need > 0) {
    heap.memory.grow(Math.ceil(need / 65536));
    heap.f32 = new Float32Array(heap.memory.buffer);
  }
  return heap;
}

/** Rounds a float count up to whole 16-byte vectors, so that every operand starts aligned. */
const aligned = (floats: number) => (floats + 3) & ~3;

/** Copies x, y and out in, runs `kernel` on their byte offsets, and copies out back. */
function onHeap(
  x: Float32Array,
  xLen: number,
  y: Float32Array,
  yLen: number,
  out: Float32Array,
  outLen: number,
  kernel: (k: SimdExports, x: number, y: number, out: number) => void,
): boolean {
  const ox = 0;
  const oy = aligned(xLen);
  const oo = oy + aligned(yLen);
  const h = heapFor(oo + outLen);
  if (!h) return false;
  h.f32.set(xLen === x.length ? x : x.subarray(0, xLen), ox);
  h.f32.set(yLen === y.length ? y : y.subarray(0, yLen), oy);
  h.f32.set(outLen === out.length ? out : out.subarray(0, outLen), oo);
  kernel(h.k, ox * 4, oy * 4, oo * 4);
  out.set(h.f32.subarray(oo, oo + outLen));
  return true;
}

/** out [m, n] += a [m, k] b [k, n] */
export function matMulAcc(a: Float32Array, b: Float32Array, out: Float32Array, m: number, k: number, n: number): void {
  if (onHeap(a, m * k, b, k * n, out, m * n, (h, pa, pb, po) => h.gemmAcc(pa, pb, po, m, k, n, k, 1))) return;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aip * b[p * n + j];
    }
  }
}

/** out [k, n] += a [m, k]^T g [m, n] */
export function matMulTransAAcc(
  a: Float32Array,
  g: Float32Array,
  out: Float32Array,
  m: number,
  k: number,
  n: number,
): void {
  if (onHeap(a, m * k, g, m * n, out, k * n, (h, pa, pg, po) => h.gemmAcc(pa, pg, po, k, m, n, 1, k))) return;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      for (let j = 0; j < n; j++) out[p * n + j] += aip * g[i * n + j];
    }
  }
}

/** out [m, k] += g [m, n] w [k, n]^T */
export function matMulTransBAcc(
  g: Float32Array,
  w: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
): void {
  if (onHeap(g, m * n, w, k * n, out, m * k, (h, pg, pw, po) => h.gemmTransBAcc(pg, pw, po, m, n, k))) return;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[i * n + j] * w[p * n + j];
      out[i * k + p] += s;
    }
  }
}
