// What a learned objective makes of real trajectories, for the page: on a few sub-trajectories of one agent's replay,
// per valid step, the objective's output beside what a hand-designed learner would look at there — the one-step
// advantage by the agent's critic, how far the policy's action is from the action taken, and the time t / T.
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../../../shared/api.js';
import { OBJECTIVE_PICTURE, OBJECTIVE_PICTURE_SPLIT } from '../../../../shared/objectives/rl.js';
import { type AgentNets, actorForward, criticValues } from './metaGradient.js';
import { type LearnedObjective, objectiveBatch, type SubTrajectories } from './objective.js';

/**
 * The picture's curves at `step`: one value per valid step of `x`, sub-trajectory by sub-trajectory (each in time
 * order, so the time curve restarts at 0 where the next one begins), the same order in every curve.
 */
export function objectivePicture(
  nets: AgentNets,
  objective: LearnedObjective,
  x: SubTrajectories,
  discount: number,
  step: number,
): EvalCurve[] {
  const { batch: B, length: T, actionSize: A } = x;
  const { values, nextValues } = criticValues(nets, x);
  const batch = objectiveBatch(x, values, nextValues, objective.architecture.inputs);
  const weights = nets.actor.flatMap((l) => [l.w.variable, l.b.variable]);
  const policy = tf.tidy(
    () => actorForward(weights, tf.tensor2d(x.obs, [B * T, x.obsSize])).dataSync() as Float32Array,
  );
  const output = objective.perStep(batch, policy);
  const curves = { output: [] as number[], advantage: [] as number[], actionGap: [] as number[], time: [] as number[] };
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = t * B + b;
      if (!x.mask[row]) continue;
      curves.output.push(output[row]);
      curves.advantage.push(x.rewards[row] + discount * (1 - x.dones[row]) * nextValues[row] - values[row]);
      curves.actionGap.push(policy[row * A] - x.actions[row * A]);
      curves.time.push(t / T);
    }
  }
  return (Object.keys(curves) as (keyof typeof curves)[]).map((k) => ({
    step,
    split: OBJECTIVE_PICTURE_SPLIT,
    metric: OBJECTIVE_PICTURE[k].name,
    values: curves[k],
  }));
}
