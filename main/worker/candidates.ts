// ES on several cores: a run's generation split between worker threads of its process (es.threads), each with its
// own copy of the policy network, evaluating its share of the members on the step's common trials
// (engine/rl/blackBox.ts evaluateCandidates: the same fitnesses in any thread). Started with the run, stopped after.
import { Worker } from 'node:worker_threads';
import type { CandidateEvaluator, CandidateResults, Weights } from '../engine/rl/blackBox.js';
import type { RlSpec } from '../engine/rl/types.js';

export interface CandidateRequest {
  id: number;
  step: number;
  trialsStarted: number;
  candidates: Weights[];
}
export type CandidateReply = { id: number; results: CandidateResults } | { id: number; error: string };

interface Pending {
  resolve: (r: CandidateResults) => void;
  reject: (e: Error) => void;
}

/** `threads` threads running `script` (dist/main/candidate-thread.cjs) for `spec`. */
export function threadedCandidates(script: string, spec: RlSpec, threads: number): CandidateEvaluator {
  const pending = new Map<number, Pending>();
  let nextId = 0;
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(script, { workerData: { spec } });
    worker.on('message', (reply: CandidateReply) => {
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if ('error' in reply) call?.reject(new Error(reply.error));
      else call?.resolve(reply.results);
    });
    // A thread that dies fails the generation it was evaluating: the run ends with its message.
    worker.on('error', (err) => {
      for (const call of pending.values()) call.reject(new Error(`an ES thread failed: ${err.message}`));
      pending.clear();
    });
    return worker;
  });
  const ask = (worker: Worker, request: Omit<CandidateRequest, 'id'>) =>
    new Promise<CandidateResults>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies CandidateRequest);
    });
  return {
    async evaluate(step, trialsStarted, candidates) {
      // Contiguous shares, so the fitnesses come back in the members' order.
      const size = Math.ceil(candidates.length / workers.length);
      const parts = await Promise.all(
        workers.map((w, k) => ask(w, { step, trialsStarted, candidates: candidates.slice(k * size, (k + 1) * size) })),
      );
      return {
        fitness: parts.flatMap((p) => p.fitness),
        envSteps: parts.reduce((n, p) => n + p.envSteps, 0),
        returnSum: parts.reduce((n, p) => n + p.returnSum, 0),
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
