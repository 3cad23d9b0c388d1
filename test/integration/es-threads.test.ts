// ES on several cores (main/worker/candidates.ts): a generation's members evaluated on threads of the built
// thread script give exactly the fitnesses, environment steps and returns of evaluating them one after the other.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSpec } from '../../shared/spec';
import { initBackend } from '../../main/engine/backends';
import { createBlackBoxNet, evaluateCandidates, netShape, readWeights } from '../../main/engine/rl/blackBox';
import type { RlSpec } from '../../main/engine/rl/types';
import { Rng } from '../../main/engine/rng';
import { appRoot } from '../../main/services/paths';
import { threadedCandidates } from '../../main/worker/candidates';

describe('ES threads', () => {
  it('evaluate a generation on two threads exactly as one thread does', async () => {
    await initBackend('wasm');
    const spec = runSpec.parse({
      seed: 4,
      task: {
        family: 'rl',
        env: { name: 'bernoulli-bandit', arms: 2 },
        testEnvs: [{ name: 'bernoulli-bandit', arms: 3 }],
        numTasks: 'fresh',
        episodesPerTrial: 20,
        algorithm: { kind: 'es', population: 6, threads: 2 },
      },
      model: { kind: 'symla', stateSize: 4, messageSize: 2 },
      training: { batchSize: 8 },
    }) as RlSpec;
    const net = createBlackBoxNet(spec, netShape(spec, spec.seed), new Rng(1));
    const theta = await readWeights(net.params);
    const rng = new Rng(2);
    const members = Array.from({ length: 5 }, () => theta.map((t) => t.map((v) => v + 0.3 * rng.normal())));
    const serial = evaluateCandidates(spec, net, spec.seed, 16, 3, members);
    const pool = threadedCandidates(path.join(appRoot(), 'dist', 'main', 'candidate-thread.cjs'), spec, 2);
    try {
      const threaded = await pool.evaluate(3, 16, members);
      expect(threaded).toEqual(serial);
      // The members differ, so equal results are not an accident of identical candidates.
      expect(new Set(serial.fitness).size).toBeGreaterThan(1);
    } finally {
      await pool.close();
    }
  });
});
