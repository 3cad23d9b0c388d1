// Matrix-product FLOPs of one training step (forward + backward = 3 x forward; elementwise work not counted),
// the numerator of the achieved GFLOP/s the benchmark reports.
import type { RunSpec } from '../shared/spec.js';

export interface StepShape {
  batch: number;
  seqLen: number;
  inputDim: number;
  outputDim: number;
  feedback: number;
}

export function stepFlops(spec: RunSpec, s: StepShape): number {
  const m = spec.model;
  const tokens = s.batch * s.seqLen;
  let forward = 0;
  if (m.kind === 'transformer') {
    const d = m.dModel;
    const perToken = s.inputDim * d + m.layers * (3 * d * d + d * d + 2 * m.mlpRatio * d * d) + d * s.outputDim;
    // Scores and the weighted sum over the full T x T grid (the causal mask does not skip work).
    const attention = m.layers * 2 * s.batch * s.seqLen * s.seqLen * d;
    forward = 2 * (tokens * perToken + attention);
  } else if (m.kind === 'lstm') {
    let perToken = 0;
    for (let l = 0; l < m.layers; l++) perToken += ((l === 0 ? s.inputDim : m.hidden) + m.hidden) * 4 * m.hidden;
    forward = 2 * tokens * (perToken + m.hidden * s.outputDim);
  } else if (m.kind === 'vsml') {
    const S = m.stateSize;
    const M = m.messageSize;
    const widths = [s.inputDim - s.feedback, ...m.hidden, s.outputDim];
    for (let l = 0; l + 1 < widths.length; l++) {
      const [A, B] = [widths[l], widths[l + 1]];
      const messages = 4 * S * M * (A + B); // gate inputs from the forward and backward messages
      const ticks = m.ticks * 4 * S * S * A * B; // recurrent part of the four gates, every tick
      const projections = M * S * (B + (l > 0 ? A : 0));
      forward += 2 * tokens * (messages + ticks + projections);
    }
  } else {
    const widths = [s.inputDim, ...m.hidden, s.outputDim];
    for (let l = 0; l + 1 < widths.length; l++) forward += 2 * tokens * widths[l] * widths[l + 1];
  }
  return 3 * forward;
}
