import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../main/engine/backends';

describe('backend registry', () => {
  it('picks the first backend that starts for auto (wasm without a GPU or native TensorFlow)', async () => {
    expect(await initBackend('auto')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('refuses a forced backend that cannot run, saying why', async () => {
    await expect(initBackend('tfjs-node')).rejects.toThrow(
      /backend tfjs-node is not available: @tensorflow\/tfjs-node is not installed/,
    );
    await expect(initBackend('tfjs-node-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu is not installed/);
    await expect(initBackend('webgpu')).rejects.toThrow(/webgpu found (no GPU adapter|only a software adapter)/);
    await expect(initBackend('quantum')).rejects.toThrow(
      /unknown backend 'quantum'; known: auto, tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu/,
    );
    expect(await initBackend('cpu')).toBe('cpu');
  });
});
