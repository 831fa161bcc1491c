import { UserError } from '../errors';
import { PROBE_MISFIT, shapeFit, showShape } from './probeFit';
import type { ProbeSet } from './types';

export { showShape };

/**
 * Fits a probe set to a model input shape (batch first, null = any): returned as is when the
 * example shapes agree, reshaped when the known dimensions hold the same number of values
 * (e.g. 784 columns into [28, 28, 1]); otherwise a UserError giving both shapes.
 */
export function fitProbe(probe: ProbeSet, inputShape: readonly (number | null)[]): ProbeSet {
  const fit = shapeFit(probe.shape, inputShape);
  if (!fit.fits || fit.fitted === undefined)
    throw new UserError(
      `${probe.source}: ${PROBE_MISFIT}: expected examples of shape ${showShape(inputShape.slice(1))}, found ${showShape(probe.shape.slice(1))} (probe shape ${showShape(probe.shape)})`,
    );
  return fit.fitted.join() === probe.shape.join() ? probe : { ...probe, shape: fit.fitted };
}
