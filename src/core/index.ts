// The public library API of MemLens: the CLI and the extension import only from here.
export * from './errors';
export * from './progress';
export * from './activations';
export * from './io/npy';
export type * from './report/schema';
export * from './random';
export * from './measures/entropy';
export * from './measures/boxSummary';
export * from './measures/gmm';
export * from './measures/neuronCap';
export * from './measures/ties';
export * from './io/activationsNpy';
export * from './training/checkpointLines';
