// Classification (GPICL): softmax cross-entropy of the class at every position; accuracy.
import type { MetricInfo } from '../metrics.js';
import type { TaskSpec } from '../spec.js';
import { figure, type ObjectiveInfo } from './types.js';

const accuracy: MetricInfo = {
  key: 'acc',
  label: 'training accuracy',
  unit: null,
  direction: 'higher',
  description: 'Accuracy over every position of the meta-training batch.',
};

export const classification = {
  name: 'classification',
  label: 'classification',
  description: 'Predict the class of every example from the examples before it; softmax cross-entropy, accuracy.',
  stepMetrics: [accuracy],
  curveTitle: 'In-context learning curve',
  positionName: () => 'position',
  chance: (task: TaskSpec) => (task.family === 'gpicl-classification' ? 1 / task.classes : null),
  curve: figure('acc', 'accuracy', 'higher', 'Accuracy at each position of the sequence.'),
  extraCurves: [figure('loss', 'cross-entropy', 'lower', 'Cross-entropy at each position of the sequence.')],
  figures: {
    last: figure(
      'last_acc',
      'accuracy at the last position',
      'higher',
      'Accuracy at the last position of the sequence.',
    ),
    improvement: figure(
      'improvement',
      'within-sequence improvement',
      'higher',
      'Mean accuracy of the last quarter of positions minus that of the first quarter.',
    ),
    mean: figure('mean_acc', 'mean accuracy', 'higher', 'Accuracy averaged over every position.'),
    others: [figure('loss', 'cross-entropy', 'lower', 'Cross-entropy averaged over every position.')],
  },
  baselines: [
    {
      name: 'learner',
      label: 'learner',
      description: 'A network trained from scratch on each sequence by SGD or Adam, one example at a time.',
    },
  ],
  baselineCurve: (b: string) => `${b}_acc`,
  baselineFigures: (b: string) => ({
    last: figure(
      `${b}_last_acc`,
      `${b}: accuracy at the last position`,
      'higher',
      `The ${b}'s accuracy at the last position.`,
    ),
    improvement: figure(`${b}_improvement`, `${b}: within-sequence improvement`, 'higher', `The ${b}'s improvement.`),
  }),
} as const satisfies ObjectiveInfo;
