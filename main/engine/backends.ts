// Compute backends, in order of preference for `auto`: a native TensorFlow the user installed, WebGPU on a
// hardware adapter (Dawn, through the npm `webgpu` package), WebAssembly with SIMD, plain JavaScript.
// A forced backend that cannot start is an error naming why, never a silent fallback.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from './models/kernels.js';

export class BackendError extends Error {
  override name = 'BackendError';
}

export interface BackendDef {
  name: string;
  description: string;
  /** Makes the backend current, or throws a BackendError saying why it cannot run here. */
  init(): Promise<void>;
}

async function activate(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new BackendError(`${name} did not initialise`);
  await tf.ready();
}

/** Loads an optional package the user may have installed; a missing one is a BackendError. */
async function optional(pkg: string): Promise<unknown> {
  try {
    return await import(pkg);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
    const why = missing ? `is not installed (npm install ${pkg})` : `failed to load: ${(err as Error).message}`;
    throw new BackendError(`${pkg} ${why}`);
  }
}

/** Software adapters (SwiftShader, llvmpipe, WARP) are slower than wasm: refused. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter?: boolean;
}
interface Gpu {
  requestAdapter(options: { powerPreference: string }): Promise<{ info: GpuAdapterInfo } | null>;
}

async function initWebGpu(): Promise<void> {
  const webgpu = (await optional('webgpu')) as { create(flags: string[]): Gpu; globals: Record<string, unknown> };
  const { create, globals } = webgpu;
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new BackendError('webgpu found no GPU adapter (no GPU, or no Vulkan/Metal/D3D12 driver)');
  const info = adapter.info;
  const label = `${info.vendor} ${info.architecture} ${info.description}`.trim();
  if (info.isFallbackAdapter || SOFTWARE_ADAPTER.test(label)) {
    throw new BackendError(`webgpu found only a software adapter (${label}), which is slower than wasm`);
  }
  // tfjs-backend-webgpu looks for navigator.gpu, which Node does not have.
  const global = globalThis as { navigator?: object };
  global.navigator ??= {};
  const nav = global.navigator as { gpu?: Gpu };
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  await optional('@tensorflow/tfjs-backend-webgpu');
  await activate('webgpu');
}

export const BACKENDS: readonly BackendDef[] = [
  {
    name: 'tfjs-node-gpu',
    description: 'native TensorFlow with CUDA (install @tensorflow/tfjs-node-gpu yourself)',
    init: async () => {
      await optional('@tensorflow/tfjs-node-gpu');
      await activate('tensorflow');
    },
  },
  {
    name: 'tfjs-node',
    description: 'native TensorFlow on the CPU (install @tensorflow/tfjs-node yourself)',
    init: async () => {
      await optional('@tensorflow/tfjs-node');
      await activate('tensorflow');
    },
  },
  {
    name: 'webgpu',
    description: 'WebGPU on a hardware GPU adapter (Dawn via the npm webgpu package)',
    init: initWebGpu,
  },
  { name: 'wasm', description: 'WebAssembly with SIMD (XNNPACK), single thread', init: () => activate('wasm') },
  { name: 'cpu', description: 'plain JavaScript, slowest; always available', init: () => activate('cpu') },
];

/**
 * Activates the requested backend (or the first that starts, for `auto`) and returns its name. Installs the
 * engine's fused kernels and its tfjs-wasm patch first (models/kernels.ts): nothing is installed on import.
 */
export async function initBackend(requested: string): Promise<string> {
  const candidates = requested === 'auto' ? BACKENDS : BACKENDS.filter((b) => b.name === requested);
  if (!candidates.length) {
    throw new BackendError(`unknown backend '${requested}'; known: auto, ${BACKENDS.map((b) => b.name).join(', ')}`);
  }
  installKernels();
  const failures: string[] = [];
  for (const backend of candidates) {
    try {
      await backend.init();
      return backend.name;
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  throw new BackendError(`backend ${requested} is not available: ${failures.join('; ')}`);
}
