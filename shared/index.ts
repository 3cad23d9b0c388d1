export * from './spec.js';
export * from './api.js';
export * from './metrics.js';
export * from './results.js';
export * from './objectives/index.js';
export * from './learnedObjective.js';
