// The private members of tfjs's wasm and cpu backends that the fused kernels and the Identity patch use
// (main/engine/models/kernels.ts). tfjs is pinned to exact versions in package.json; after an upgrade this test
// names every member that changed.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { installKernels } from '../../main/engine/models/kernels';

type Loose = Record<string, unknown>;

/** The member at a dotted path of `root`, or undefined. */
function member(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((at, key) => (at == null ? undefined : (at as Loose)[key]), root);
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  return typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? '?'})` : `a ${typeof v}`;
}

interface Check {
  path: string;
  expected: string;
  ok: boolean;
  actual: unknown;
}

/** Fails with one line per broken member. */
function expectIntact(backendName: string, checks: Check[]): void {
  const broken = checks
    .filter((c) => !c.ok)
    .map((c) => `${backendName} backend: ${c.path} should be ${c.expected}, is ${describeValue(c.actual)}`);
  const why = `tfjs ${tf.version.tfjs} broke the kernel layer (main/engine/models/kernels.ts uses these members)`;
  expect(broken, `${why}:\n${broken.join('\n')}`).toEqual([]);
}

const check = (path: string, expected: string, ok: boolean, actual: unknown): Check => ({ path, expected, ok, actual });

/** Whether `values` holds exactly `expected`. */
const holds = (values: unknown, expected: number[]) =>
  (values instanceof Float32Array || Array.isArray(values)) && Array.from(values).join() === expected.join();

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('tfjs internals the kernel layer relies on', () => {
  it('wasm backend: wasm.asm.memory, makeOutput, getMemoryOffset, disposeData, incRef, Identity', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as Loose;
    const fns = ['makeOutput', 'getMemoryOffset', 'disposeData', 'incRef', 'refCount'];
    const memory = member(backend, 'wasm.asm.memory');
    const kernel = (name: string): Check => {
      const config = tf.getKernel(name, 'wasm');
      return check(`the '${name}' kernel`, 'registered', config !== undefined, config);
    };
    expectIntact('wasm', [
      check('wasm.asm.memory', 'a WebAssembly.Memory', memory instanceof WebAssembly.Memory, memory),
      ...fns.map((f) => check(f, 'a function', typeof backend[f] === 'function', backend[f])),
      kernel('Identity'),
      kernel('_FusedMatMul'),
    ]);

    // What they do: a tensor's floats lie at getMemoryOffset in the heap; makeOutput allocates one there.
    const b = backend as unknown as {
      makeOutput(shape: number[], dtype: string): tf.TensorInfo;
      getMemoryOffset(dataId: object): number;
      disposeData(dataId: object, force?: boolean): boolean;
      incRef(dataId: object): void;
      refCount(dataId: object): number;
    };
    const heap = () => (memory as WebAssembly.Memory).buffer;
    const x = tf.tensor1d([1, 2, 3, 4]);
    const offset = b.getMemoryOffset(x.dataId);
    const out = b.makeOutput([4], 'float32');
    new Float32Array(heap(), b.getMemoryOffset(out.dataId), 4).set([5, 6, 7, 8]);
    const made = tf.engine().makeTensorFromTensorInfo(out);
    b.incRef(x.dataId);
    const refs = b.refCount(x.dataId);
    b.disposeData(x.dataId);
    const atOffset = new Float32Array(heap(), offset, 4);
    expectIntact('wasm', [
      check('getMemoryOffset(dataId)', "the floats' byte offset", holds(atOffset, [1, 2, 3, 4]), atOffset),
      check('makeOutput(shape, dtype)', 'a tensor on the heap', holds(made.dataSync(), [5, 6, 7, 8]), made),
      check('incRef(dataId)', 'one more reference', refs === 2, refs),
    ]);
    tf.dispose([x, made]);
  });

  it('cpu backend: data.get(dataId).values, makeTensorInfo', async () => {
    await tf.setBackend('cpu');
    const backend = tf.backend() as unknown as Loose;
    const x = tf.tensor1d([1, 2, 3]);
    const get = member(backend, 'data.get') as ((id: object) => Loose | undefined) | undefined;
    const values = get?.call(member(backend, 'data'), x.dataId)?.values;
    type MakeTensorInfo = (shape: number[], dtype: string, values: Float32Array) => tf.TensorInfo;
    const makeTensorInfo = backend.makeTensorInfo as MakeTensorInfo | undefined;
    const info = makeTensorInfo?.call(backend, [2], 'float32', new Float32Array([4, 5]));
    const made = info ? tf.engine().makeTensorFromTensorInfo(info) : null;
    expectIntact('cpu', [
      check('data.get(dataId).values', "the tensor's Float32Array", holds(values, [1, 2, 3]), values),
      check('makeTensorInfo(shape, dtype, values)', 'a tensor', holds(made?.dataSync(), [4, 5]), info),
    ]);
    tf.dispose([x, ...(made ? [made] : [])]);
  });

  it('installKernels shares buffers in tfjs-wasm Identity, and installing twice is harmless', async () => {
    await tf.setBackend('wasm');
    installKernels();
    installKernels();
    const identity = tf.getKernel('Identity', 'wasm') as (tf.KernelConfig & { metalabShared?: boolean }) | undefined;
    expect(identity?.metalabShared).toBe(true);
    const b = tf.backend() as unknown as { getMemoryOffset(dataId: object): number };
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    expect(b.getMemoryOffset(y.dataId)).toBe(b.getMemoryOffset(x.dataId));
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.getKernel('MetalabTranspose2D', 'wasm')).toBeDefined();
    expect(tf.getKernel('MetalabSoftmaxCrossEntropy', 'cpu')).toBeDefined();
  });
});
