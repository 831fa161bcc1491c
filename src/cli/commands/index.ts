import type { Command } from '../command';

/** The CLI verbs, by name. Each lives in its own module in this folder. */
export const commands: Record<string, Command> = {};
