export * from './spec.js';
export * from './api.js';
export * from './metrics.js';
