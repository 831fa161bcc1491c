import type { Command } from '../command';
import { analyzeCommand } from './analyze';
import { captureCommand } from './capture';
import { compareCommand } from './compare';
import { demoCommand } from './demo';
import { layersCommand } from './layers';
import { measureCommand } from './measure';
import { mergeCommand } from './merge';
import { shardable } from './shardFlag';
import { slurmCommand } from './slurm';

/** The CLI verbs, by name. Each lives in its own module in this folder. */
export const commands: Record<string, Command> = {
  analyze: shardable('analyze', analyzeCommand),
  capture: captureCommand,
  compare: shardable('compare', compareCommand),
  demo: demoCommand,
  layers: layersCommand,
  measure: shardable('measure', measureCommand),
  merge: mergeCommand,
  slurm: slurmCommand,
};
