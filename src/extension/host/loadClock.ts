/**
 * Imported first by extension.ts, so its clock starts when the bundle begins evaluating: the
 * activation log can then separate loading the module from running activate().
 */
import { performance } from 'node:perf_hooks';

export const moduleLoadStart = performance.now();
