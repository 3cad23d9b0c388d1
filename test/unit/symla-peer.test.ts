// SymLA's forward pass (main/engine/rl/symla.ts) against an independent NumPy reference written from the equations
// of that file's header (test/peer/symla_ref.py on Debian's /usr/bin/python3): the same weights and the same
// observations, rewards, done flags and fed-back actions over two lifetimes; the action probabilities of every step
// must agree. Skipped, saying so, where that Python has no NumPy.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/engine/backends';
import type { SlotShape } from '../../main/engine/envs/types';
import { Rng } from '../../main/engine/rng';
import { createSymlaParams, type SymlaSpec, SymlaPolicy } from '../../main/engine/rl/symla';
import { pythonWith } from '../helpers/system';
import { tempDir } from '../helpers/tmp';

const what = 'SymLA policy against the NumPy reference';
const python = pythonWith('numpy', what);
const script = path.resolve(__dirname, '../peer/symla_ref.py');

const STEPS = 30;
/** The step at which the slots begin a second lifetime (fresh states, no previous action). */
const SECOND_LIFETIME = 17;
const TOLERANCE = 1e-6;

interface Case {
  model: SymlaSpec;
  slots: SlotShape[];
  seed: number;
}

const model = (m: Partial<SymlaSpec>): SymlaSpec => ({
  kind: 'symla',
  stateSize: 4,
  messageSize: 3,
  hidden: [],
  ticks: 1,
  biasInput: true,
  ...m,
});

const cases: Record<string, Case> = {
  'one layer, bias input, 2 actions, 1 observation, 1 tick': {
    model: model({}),
    slots: [{ observationSize: 1, actions: 2 }],
    seed: 1,
  },
  'hidden [3], 4 observations, 5 actions, 2 ticks, no bias': {
    model: model({ hidden: [3], ticks: 2, biasInput: false }),
    slots: [{ observationSize: 4, actions: 5 }],
    seed: 2,
  },
  '3 slots of different sizes (2, 3, 5 actions of 5)': {
    model: model({ stateSize: 3, messageSize: 2, hidden: [2], ticks: 2 }),
    slots: [
      { observationSize: 1, actions: 2 },
      { observationSize: 3, actions: 3 },
      { observationSize: 2, actions: 5 },
    ],
    seed: 3,
  },
};

interface Step {
  begin: boolean;
  obs: number[][];
  prevActions: number[];
  prevRewards: number[];
  dones: number[];
  acted: boolean[];
}

/** Drives the policy over STEPS steps; returns its probabilities per step and what the reference needs. */
function drive(c: Case): { ours: Float32Array[]; exchange: object } {
  const params = createSymlaParams(c.model, new Rng(c.seed));
  const policy = new SymlaPolicy(c.model, params);
  policy.refreshNow();
  const n = c.slots.length;
  const A = Math.max(...c.slots.map((s) => s.actions));
  const O = Math.max(...c.slots.map((s) => s.observationSize));
  const batch = { action: { kind: 'discrete' as const, n: A }, slots: c.slots };
  const rng = new Rng(c.seed + 100);
  const ours: Float32Array[] = [];
  const steps: Step[] = [];
  let prevActions: Float32Array = new Float32Array(n);
  let acted = false;
  for (let t = 0; t < STEPS; t++) {
    const begin = t === 0 || t === SECOND_LIFETIME;
    if (begin) {
      policy.begin(n, batch);
      prevActions = new Float32Array(n);
      acted = false;
    }
    // Padding beyond a slot's own observation size is no input: fill it with values that would show if read.
    const obs = Float32Array.from({ length: n * O }, (_, k) =>
      k % O < c.slots[Math.floor(k / O)].observationSize ? rng.normal() * 1.5 : 7,
    );
    const prevRewards = Float32Array.from({ length: n }, () => (acted ? rng.normal() : 0));
    const dones = Uint8Array.from({ length: n }, () => (begin || rng.next() < 0.2 ? 1 : 0));
    const { actions, probs } = policy.act({ obs, prevActions, prevRewards, dones }, rng, 'greedy');
    steps.push({
      begin,
      obs: c.slots.map((s, k) => Array.from(obs.subarray(k * O, k * O + s.observationSize))),
      prevActions: Array.from(prevActions),
      prevRewards: Array.from(prevRewards),
      dones: Array.from(dones),
      acted: c.slots.map(() => acted),
    });
    ours.push(probs!);
    prevActions = actions;
    acted = true;
  }
  const exchange = {
    model: c.model,
    params: Object.fromEntries(
      params.map((p) => [p.name, { shape: p.variable.shape, values: Array.from(p.variable.dataSync()) }]),
    ),
    slots: c.slots,
    steps,
  };
  for (const p of params) p.variable.dispose();
  return { ours, exchange };
}

function reference(exchange: object): number[][][] {
  const file = path.join(tempDir(), 'case.json');
  fs.writeFileSync(file, JSON.stringify(exchange));
  const run = spawnSync(python!, [script, file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}`);
  return JSON.parse(run.stdout).probs;
}

describe.skipIf(!python)(what, () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: the probabilities of every step agree`, () => {
      const { ours, exchange } = drive(c);
      const theirs = reference(exchange);
      const A = Math.max(...c.slots.map((s) => s.actions));
      expect(theirs).toHaveLength(STEPS);
      let worst = 0;
      let spread = 0;
      for (let t = 0; t < STEPS; t++)
        c.slots.forEach((slot, k) => {
          const row = Array.from(ours[t].subarray(k * A, (k + 1) * A));
          // Actions the slot's environment lacks get exactly nothing.
          expect(row.slice(slot.actions)).toEqual(new Array(A - slot.actions).fill(0));
          expect(theirs[t][k]).toHaveLength(slot.actions);
          for (let j = 0; j < slot.actions; j++) {
            worst = Math.max(worst, Math.abs(row[j] - theirs[t][k][j]));
            spread = Math.max(spread, Math.abs(theirs[t][k][j] - 1 / slot.actions));
          }
        });
      expect(worst).toBeLessThan(TOLERANCE);
      // The probabilities move away from uniform: the comparison sees the network, not only the softmax.
      expect(spread).toBeGreaterThan(1e-3);
    });
  }
});
