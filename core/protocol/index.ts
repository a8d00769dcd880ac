export * from './assets.js';
export * from './origins.js';
export * from './frames.js';
export * from './validate.js';
export * from './validate-content.js';
