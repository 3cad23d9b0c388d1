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
  /** Makes the backend current, or throws a BackendError saying why it cannot run here; forced: not for `auto`. */
  init(forced: boolean): Promise<void>;
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

/** Software adapters (SwiftShader, llvmpipe, WARP) are slower than wasm: refused unless asked for (below). */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device?: string;
  description: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapter {
  info: GpuAdapterInfo;
}
interface Gpu {
  requestAdapter(options: { powerPreference: string; featureLevel?: string }): Promise<GpuAdapter | null>;
}

/** The adapter the webgpu backend runs on, once it has started. */
export interface WebGpuAdapter {
  label: string;
  software: boolean;
}
/**
 * Dawn's instance is kept here for the process's lifetime: once it is collected, its adapter's devices stop
 * answering (promises that never settle).
 */
let webGpu: { adapter: WebGpuAdapter; instance: Gpu } | null = null;

/** The adapter webgpu started on in this process (null before): what the tests and scripts/gpu-check report. */
export function startedWebGpuAdapter(): WebGpuAdapter | null {
  return webGpu?.adapter ?? null;
}

/**
 * A software adapter is accepted only by a forced `webgpu` with METALAB_WEBGPU_ALLOW_SOFTWARE=1 (the WebGPU
 * correctness tests on a machine without a GPU); `auto` never takes one.
 */
async function initWebGpu(forced: boolean): Promise<void> {
  const allowSoftware = forced && process.env.METALAB_WEBGPU_ALLOW_SOFTWARE === '1';
  webGpu ??= await startWebGpu(allowSoftware);
  const { label, software } = webGpu.adapter;
  if (software && !allowSoftware) {
    throw new BackendError(`webgpu found only a software adapter (${label}), which is slower than wasm`);
  }
  await activate('webgpu');
}

/** Finds Dawn's adapter (once per process) and hands it to tfjs-backend-webgpu. */
async function startWebGpu(allowSoftware: boolean): Promise<{ adapter: WebGpuAdapter; instance: Gpu }> {
  const webgpu = (await optional('webgpu')) as { create(flags: string[]): Gpu; globals: Record<string, unknown> };
  const { create, globals } = webgpu;
  Object.assign(globalThis, globals);
  let instance = create([]);
  let adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter && allowSoftware) {
    // Dawn's Vulkan backend refuses older lavapipe (Debian 12's Mesa 22.3: no shader*ArrayDynamicIndexing); its
    // OpenGL ES backend runs on Mesa's llvmpipe, in WebGPU's compatibility mode, headless through EGL's surfaceless
    // platform. Dawn opens the unversioned libEGL.so (Debian's libegl-dev).
    process.env.EGL_PLATFORM ??= 'surfaceless';
    instance = create(['backend=opengles']);
    adapter = await instance.requestAdapter({ powerPreference: 'high-performance', featureLevel: 'compatibility' });
  }
  if (!adapter) {
    const software = allowSoftware
      ? ", nor Mesa's llvmpipe through EGL (Debian: libegl-dev libegl-mesa0 libgl1-mesa-dri)"
      : '';
    throw new BackendError(`webgpu found no GPU adapter (no GPU, or no Vulkan/Metal/D3D12 driver)${software}`);
  }
  const info = adapter.info;
  const label = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  // tfjs-backend-webgpu looks for navigator.gpu, which Node does not have, and requests its own adapter there:
  // it gets this one.
  const global = globalThis as { navigator?: object };
  global.navigator ??= {};
  const gpu: Gpu = { requestAdapter: async () => adapter };
  Object.defineProperty(global.navigator, 'gpu', { value: gpu, configurable: true });
  await optional('@tensorflow/tfjs-backend-webgpu');
  return { adapter: { label, software: Boolean(info.isFallbackAdapter) || SOFTWARE_ADAPTER.test(label) }, instance };
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
      await backend.init(requested !== 'auto');
      return backend.name;
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  throw new BackendError(`backend ${requested} is not available: ${failures.join('; ')}`);
}
