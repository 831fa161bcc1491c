/** One CLI verb. `run` returns the exit code; UserErrors it throws become one-line messages. */
export interface Command {
  summary: string;
  run(args: string[], signal: AbortSignal): Promise<number>;
}
