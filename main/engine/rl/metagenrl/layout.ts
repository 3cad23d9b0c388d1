// The names and shapes of a learned objective's weights, from its architecture alone (no tfjs): what an imported
// objective file must hold. ./objective.ts creates exactly these, in this order (metagenrl-objective.test.ts).
import type { LearnedObjectiveSpec } from '../../../../shared/spec.js';

export interface TensorLayout {
  name: string;
  shape: number[];
}

/** Dense layers of `widths`, each with LayerNorm where `layerNorm(i)`. */
function layers(part: string, widths: readonly number[], layerNorm: (i: number) => boolean): TensorLayout[] {
  return widths.slice(1).flatMap((out, i) => {
    const name = `objective.${part}.layer${i}`;
    const ln = layerNorm(i)
      ? [
          { name: `${name}.ln.g`, shape: [out] },
          { name: `${name}.ln.b`, shape: [out] },
        ]
      : [];
    return [{ name: `${name}.w`, shape: [widths[i], out] }, { name: `${name}.b`, shape: [out] }, ...ln];
  });
}

export function objectiveLayout(a: LearnedObjectiveSpec): TensorLayout[] {
  const hidden = Array(a.depth - 1).fill(a.units);
  const lstmIn = a.units + (a.inputs.length ? a.valueFeatures : 0);
  return [
    ...layers('action', [2, ...hidden, a.units], () => true),
    ...(a.inputs.length ? layers('value', [a.inputs.length, ...hidden, a.valueFeatures], () => false) : []),
    { name: 'objective.lstm.w', shape: [lstmIn + a.lstm, 4 * a.lstm] },
    { name: 'objective.lstm.b', shape: [4 * a.lstm] },
    ...layers('head', [a.lstm, ...hidden, 1], (i) => i < a.depth - 1),
  ];
}
