// A thread of ./candidates.ts: builds the run's policy network once (its weights are set per candidate), then
// evaluates the candidates it is sent on the trials of their step.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../engine/backends.js';
import { createBlackBoxNet, evaluateCandidates, netShape } from '../engine/rl/blackBox.js';
import type { RlSpec } from '../engine/rl/types.js';
import { Rng } from '../engine/rng.js';
import type { CandidateReply, CandidateRequest } from './candidates.js';

const { spec } = workerData as { spec: RlSpec };
// The network only holds weights here: tfjs's plain CPU backend makes its variables, the forward pass is typed arrays.
const ready = initBackend('cpu').then(() => createBlackBoxNet(spec, netShape(spec, spec.seed), new Rng(0)));

parentPort!.on('message', async ({ id, step, trialsStarted, candidates }: CandidateRequest) => {
  let reply: CandidateReply;
  try {
    const results = evaluateCandidates(spec, await ready, spec.seed, trialsStarted, step, candidates);
    reply = { id, results };
  } catch (err) {
    reply = { id, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
