import type { Command } from '../command';
import { captureCommand } from './capture';
import { layersCommand } from './layers';
import { measureCommand } from './measure';

/** The CLI verbs, by name. Each lives in its own module in this folder. */
export const commands: Record<string, Command> = {
  capture: captureCommand,
  layers: layersCommand,
  measure: measureCommand,
};
