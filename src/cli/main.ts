import { CancelledError, oneLine, UserError } from '../core/errors';
import { exitOnSignals } from '../core/io/exitOnSignal';
import { availableKernel, kernelChoiceFromEnv } from '../core/mi/kernel';
import { version } from '../../package.json';
import { commands } from './commands';

const USAGE = `memlens: diagnose memorization from neuron entropy and mutual information

Usage: memlens <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Run 'memlens <command> --help' for a command's options; 'memlens --version' for the version
and the MI kernel (native, wasm or ts) this installation runs.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    // The MI kernel this installation runs (found by loading it, as the MI workers do).
    process.stdout.write(
      `memlens ${version} (MI kernel: ${availableKernel(kernelChoiceFromEnv())})\n`,
    );
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(
      `memlens: unknown command '${name}'; expected one of ${Object.keys(commands).join(', ')}\n`,
    );
    return 2;
  }
  // SIGTERM and SIGHUP end the run at once (a write in flight: its temporary file removed).
  // The first Ctrl-C cancels the job (exit 130, 'cancelled'); a second one ends it at once.
  exitOnSignals(['SIGTERM', 'SIGHUP']);
  const abort = new AbortController();
  process.once('SIGINT', () => {
    abort.abort();
    exitOnSignals(['SIGINT']);
    if (process.stderr.isTTY) {
      process.stderr.write('\r\x1b[2Kmemlens: cancelling; press Ctrl-C again to stop at once\n');
    }
  });
  return command.run(rest, abort.signal);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`memlens: ${oneLine(err.message)}\n`);
      process.exitCode = 1;
    } else if (err instanceof CancelledError) {
      process.stderr.write('memlens: cancelled\n');
      process.exitCode = 130;
    } else {
      // One line; the stack only when asked for (MEMLENS_DEBUG=1).
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`memlens: internal error: ${oneLine(message)}\n`);
      if (process.env.MEMLENS_DEBUG === '1' && err instanceof Error && err.stack !== undefined)
        process.stderr.write(`${err.stack}\n`);
      process.exitCode = 70;
    }
  },
);
