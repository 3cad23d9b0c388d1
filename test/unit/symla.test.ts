// SymLA's symmetries (main/engine/rl/symla.ts), its any-size networks, and the ES gradient estimate (rl/es.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/engine/backends';
import type { BatchShape } from '../../main/engine/envs/types';
import { centredRanks, esGradient } from '../../main/engine/rl/es';
import { createSymlaParams, type SymlaSpec, SymlaPolicy } from '../../main/engine/rl/symla';
import { Rng } from '../../main/engine/rng';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = (m: Partial<SymlaSpec>): SymlaSpec => ({
  kind: 'symla',
  stateSize: 6,
  messageSize: 3,
  hidden: [],
  ticks: 1,
  biasInput: true,
  ...m,
});

function policyOf(spec: SymlaSpec, seed = 1): SymlaPolicy {
  const policy = new SymlaPolicy(spec, createSymlaParams(spec, new Rng(seed)));
  policy.refreshNow();
  return policy;
}

const discrete = (O: number, A: number, n = 1): BatchShape => ({
  action: { kind: 'discrete', n: A },
  slots: Array.from({ length: n }, () => ({ observationSize: O, actions: A })),
});

/**
 * A lifetime of `steps` steps on one slot: observations, rewards and the actions taken drawn from `seed` (not the
 * policy's: its outputs start alike, so its own greedy choice would break ties by index), each observation's
 * dimensions in the order `obsOrder`, and action a fed back as `actionMap[a]`. The probabilities of every step.
 */
function lifetime(policy: SymlaPolicy, O: number, obsOrder: number[], actionMap: number[], steps: number, seed = 7) {
  const A = actionMap.length;
  const rng = new Rng(seed);
  policy.begin(1, discrete(O, A));
  const probs: Float32Array[] = [];
  let [prevAction, prevReward] = [0, 0];
  for (let t = 0; t < steps; t++) {
    const raw = rng.fillNormal(new Float32Array(O));
    const obs = Float32Array.from(obsOrder, (k) => raw[k]);
    const acted = policy.act(
      {
        obs,
        prevActions: Float32Array.of(actionMap[prevAction]),
        prevRewards: Float32Array.of(prevReward),
        dones: Uint8Array.of(t === 0 ? 1 : 0),
      },
      new Rng(t),
      'greedy',
    );
    probs.push(acted.probs!.slice());
    [prevAction, prevReward] = [rng.int(A), rng.next()];
  }
  return probs;
}

describe('SymLA', () => {
  for (const spec of [model({}), model({ hidden: [3], ticks: 2 })]) {
    const name = spec.hidden.length ? 'with a hidden layer and 2 ticks' : 'one layer';
    it(`${name}: permuting the inputs changes nothing; permuting the actions permutes its probabilities`, () => {
      const [O, steps] = [4, 25];
      const actions = [0, 1, 2, 3, 4];
      const base = lifetime(policyOf(spec), O, [0, 1, 2, 3], actions, steps);
      const inputs = lifetime(policyOf(spec), O, [2, 0, 3, 1], actions, steps);
      // Action a relabelled perm[a]: fed back as perm[a], it must get the probability a had.
      const perm = [3, 0, 4, 1, 2];
      const relabelled = lifetime(policyOf(spec), O, [0, 1, 2, 3], perm, steps);
      for (let t = 0; t < steps; t++) {
        expect(maxDiff(inputs[t], base[t])).toBeLessThan(1e-6);
        for (const a of actions) expect(Math.abs(relabelled[t][perm[a]] - base[t][a])).toBeLessThan(1e-6);
      }
      // Not trivially so: its probabilities move away from uniform as actions are fed back.
      expect(Math.max(...base.flatMap((p) => Array.from(p, (x) => Math.abs(x - 0.2))))).toBeGreaterThan(1e-3);
    });
  }

  it('runs any number of inputs and actions with the same parameters, slots of several sizes in one batch', () => {
    const policy = policyOf(model({ hidden: [2] }));
    const sizes: [number, number][] = [
      [1, 2],
      [3, 7],
      [6, 3],
      [2, 12],
    ];
    const A = 12;
    const batch: BatchShape = {
      action: { kind: 'discrete', n: A },
      slots: sizes.map(([O, a]) => ({ observationSize: O, actions: a })),
    };
    policy.begin(sizes.length, batch);
    const n = sizes.length;
    const obs = new Rng(3).fillNormal(new Float32Array(n * 6));
    const input = {
      obs,
      prevActions: new Float32Array(n) as Float32Array,
      prevRewards: new Float32Array(n),
      dones: new Uint8Array(n),
    };
    for (let t = 0; t < 5; t++) {
      const { actions, probs } = policy.act(input, new Rng(t), 'sample');
      sizes.forEach(([, a], s) => {
        const row = Array.from(probs!.subarray(s * A, (s + 1) * A));
        expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
        expect(row.slice(a).every((p) => p === 0)).toBe(true);
        expect(actions[s]).toBeLessThan(a);
      });
      input.prevActions = actions;
    }
  });

  it('is refused before begin is told the slots’ sizes', () => {
    const policy = policyOf(model({}));
    expect(() => policy.begin(2)).toThrow(/each slot's sizes/);
  });
});

describe('the ES gradient estimate', () => {
  // f(theta) = -|theta - c|^2: for antithetic pairs f(theta + s e) - f(theta - s e) = 2 s grad f . e exactly.
  const dims = 20;
  const c = Float32Array.from({ length: dims }, (_, i) => Math.sin(i));
  const theta = new Float32Array(dims).fill(0.5);
  const f = (x: Float32Array) => -x.reduce((a, v, i) => a + (v - c[i]) ** 2, 0);
  const gradient = Float32Array.from(theta, (v, i) => -2 * (v - c[i]));
  const sigma = 0.1;
  const pairs = 20_000;
  const rng = new Rng(11);
  const noise = Array.from({ length: pairs }, () => [rng.fillNormal(new Float32Array(dims))]);
  const fitness = noise.flatMap(([e]) => [
    f(theta.map((v, i) => v + sigma * e[i])),
    f(theta.map((v, i) => v - sigma * e[i])),
  ]);

  it('with raw fitness, is the gradient (to its sampling error)', () => {
    const [g] = esGradient(fitness, noise, sigma);
    // Each entry's standard error is about |grad| / sqrt(pairs): in norm sqrt(dims / pairs) = 3.2% of |grad|.
    expect(norm(g.map((v, i) => v - gradient[i])) / norm(gradient)).toBeLessThan(0.06);
  });

  it('with centred ranks, points the way of the gradient', () => {
    const [g] = esGradient(centredRanks(fitness), noise, sigma);
    const cosine = g.reduce((a, v, i) => a + v * gradient[i], 0) / (norm(g) * norm(gradient));
    expect(cosine).toBeGreaterThan(0.95);
  });
});

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
const norm = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
