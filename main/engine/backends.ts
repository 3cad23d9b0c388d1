// Compute backends, in order of preference for `auto`. A forced backend that cannot start is an error,
// never a silent fallback.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export interface BackendDef {
  name: string;
  description: string;
}

export const BACKENDS: readonly BackendDef[] = [
  { name: 'wasm', description: 'WebAssembly with SIMD (XNNPACK), single thread' },
  { name: 'cpu', description: 'pure JavaScript, slowest; always available' },
];

export class BackendError extends Error {
  override name = 'BackendError';
}

/** Activates the requested backend (or the best available for `auto`) and returns its name. */
export async function initBackend(requested: string): Promise<string> {
  const candidates = requested === 'auto' ? BACKENDS.map((b) => b.name) : [requested];
  if (!BACKENDS.some((b) => b.name === requested) && requested !== 'auto') {
    throw new BackendError(`unknown backend '${requested}'; known: auto, ${BACKENDS.map((b) => b.name).join(', ')}`);
  }
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
      failures.push(`${name}: did not initialise`);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new BackendError(`backend ${requested} is not available (${failures.join('; ')})`);
}
