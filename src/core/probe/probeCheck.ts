/**
 * Whether a probe file fits a model's input, decided by the check the analysis runs when it
 * feeds the probe (`fitProbe`), so what the model viewer says and what an analysis does agree.
 */
import { promises as fs } from 'node:fs';
import { UserError } from '../errors';
import { fitProbe } from './fit';
import { loadProbe } from './loadProbe';

/** The verdict on one probe against one model input. */
export type ProbeCheck =
  | {
      probe: string;
      fits: true;
      /** The shape of one probe example as read. */
      exampleShape: number[];
      /** The shape an example takes for the model (differs when it is reshaped). */
      fedShape: number[];
    }
  | {
      probe: string;
      fits: false;
      exampleShape: number[];
      /** The model's input shape, batch first, null for a dimension of any size. */
      modelInput: (number | null)[];
    }
  /** The probe cannot be read at all: the reader's one-line message. */
  | { probe: string; fits: false; error: string };

/**
 * Loads the probe and checks it against `inputShape` (batch first). A folder of images is
 * resized to the input as it is read, so it fits whenever it can be read.
 */
export async function checkProbe(
  probe: string,
  inputShape: readonly (number | null)[],
): Promise<ProbeCheck> {
  try {
    const isFolder = (await fs.stat(probe).catch(() => null))?.isDirectory() === true;
    // One example is enough for the shape (the whole file is still read and checked).
    const loaded = await loadProbe(probe, {
      samples: 1,
      seed: 0,
      ...(isFolder ? { inputShape: [...inputShape] } : {}),
    });
    const exampleShape = loaded.shape.slice(1);
    try {
      const fed = fitProbe(loaded, inputShape);
      return { probe, fits: true, exampleShape, fedShape: fed.shape.slice(1) };
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return { probe, fits: false, exampleShape, modelInput: [...inputShape] };
    }
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { probe, fits: false, error: err.message };
  }
}
