export * from './frames.js';
export * from './validate.js';
