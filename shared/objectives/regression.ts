// Regression (task diversity, Raventós et al.): squared error of the value at every position.
import { figure, type ObjectiveInfo } from './types.js';

export const regression = {
  name: 'regression',
  label: 'regression',
  description: 'Predict the value of every example from the examples before it; mean squared error.',
  stepMetrics: [],
  curveTitle: 'In-context learning curve',
  positionName: () => 'position',
  curve: figure('mse', 'MSE', 'lower', 'Mean squared error at each position of the sequence.'),
  extraCurves: [],
  figures: {
    last: figure('last_mse', 'MSE at the last position', 'lower', 'Mean squared error at the last position.'),
    improvement: figure(
      'improvement',
      'within-sequence improvement',
      'higher',
      'Relative fall of the MSE from the first quarter of positions to the last: (early - late) / early.',
    ),
    mean: figure('mean_mse', 'mean MSE', 'lower', 'Mean squared error averaged over every position.'),
    others: [],
  },
  baselines: [
    {
      name: 'ridge',
      label: 'ridge',
      description: 'Ridge regression on the examples so far (lambda = noise variance).',
    },
    {
      name: 'dmmse',
      label: 'dMMSE',
      description: "The Bayes estimator for the task pool (posterior mean over the pool's tasks).",
    },
  ],
  baselineCurve: (b: string) => `${b}_mse`,
  baselineFigures: (b: string) => ({
    last: figure(
      `${b}_last_mse`,
      `${b}: MSE at the last position`,
      'lower',
      `The ${b} baseline's MSE at the last position.`,
    ),
    distance: figure(
      `distance_to_${b}`,
      `distance to ${b}`,
      null,
      `Mean squared distance of the predictions to ${b}'s.`,
    ),
  }),
} as const satisfies ObjectiveInfo;
