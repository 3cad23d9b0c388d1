// Per-kernel profile of our training step (tf.profile): `npm run bench -- --profile [keys...]`, or run directly
// with METALAB_BENCH_ENTRY=bench/profile.ts node bench/run.mjs [keys...].
import { benchConfigs } from './configs.js';
import { profileStep, setUp } from './ours.js';

export async function profile(
  keys: string[],
  tiny = false,
  backend = 'wasm',
  top = 18,
): Promise<
  Record<string, { stepMs: number; profiledMs: number; kernels: { name: string; ms: number; calls: number }[] }>
> {
  const out: Record<
    string,
    { stepMs: number; profiledMs: number; kernels: { name: string; ms: number; calls: number }[] }
  > = {};
  for (const config of benchConfigs(tiny, backend).filter((c) => !keys.length || keys.includes(c.key))) {
    const run = await setUp(config);
    const batch = await run.sample(0);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      await run.step(batch, i);
      times.push(performance.now() - t);
      if (config.key === 'lstm' && i >= 2) break;
    }
    const stepMs = times.slice(2).sort((a, b) => a - b)[Math.floor((times.length - 2) / 2)];
    const p = await profileStep(run, batch, 10);
    const sum = p.kernels.reduce((n, k) => n + k.ms, 0);
    // customGrad ops appear as 'unnamed scope' (or their scope's name) with their inner kernels' time included.
    const leaf = p.kernels.filter((k) => !/unnamed scope|forward|__op$/.test(k.name)).reduce((n, k) => n + k.ms, 0);
    process.stdout.write(
      `\n${config.key}: step ${stepMs.toFixed(1)} ms unprofiled; profiled ${p.totalMs.toFixed(1)} ms, leaf kernels ` +
        `${leaf.toFixed(1)} ms (all ${sum.toFixed(1)} with nested) in ` +
        `${p.kernels.reduce((n, k) => n + k.calls, 0)} calls\n`,
    );
    for (const k of p.kernels.slice(0, top))
      process.stdout.write(
        `  ${k.name.padEnd(26)} ${k.ms.toFixed(2).padStart(9)} ms ${String(k.calls).padStart(6)} calls ` +
          `${((100 * k.ms) / sum).toFixed(1).padStart(5)}%\n`,
      );
    out[config.key] = { stepMs, profiledMs: p.totalMs, kernels: p.kernels };
    run.dispose();
  }
  return out;
}

if (process.env.METALAB_BENCH_ENTRY === 'bench/profile.ts') {
  const args = process.argv.slice(2);
  void profile(
    args.filter((a) => !a.startsWith('--')),
    args.includes('--tiny'),
  );
}
