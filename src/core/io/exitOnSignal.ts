import { constants } from 'node:os';
import { removeTempFilesSync, watchWrites, writing as writeInFlight } from './atomicWrite';

/** The signals that end the process at once, without leaving a temporary file. */
const armed = new Set<NodeJS.Signals>();
/** The handlers installed now: only while a write is in flight. */
const installed = new Map<NodeJS.Signals, () => void>();
let writing = false;
let watching = false;

/** Removes the temporary files of the writes in flight and exits with 128 + the signal number. */
function exitOn(signal: NodeJS.Signals): void {
  removeTempFilesSync();
  process.exit(128 + (constants.signals[signal] ?? 0));
}

function install(signal: NodeJS.Signals): void {
  if (installed.has(signal)) return;
  const handler = (): void => exitOn(signal);
  installed.set(signal, handler);
  process.on(signal, handler);
}

/** Handlers while a write is in flight, the default actions otherwise. */
function sync(): void {
  if (writing) {
    for (const signal of armed) install(signal);
  } else {
    for (const [signal, handler] of installed) process.removeListener(signal, handler);
    installed.clear();
  }
}

/**
 * Makes each of `signals` end the process at once without leaving a temporary file behind.
 * While a write of writeFileAtomic is in flight (the event loop then waits on the disk, so a
 * handler runs at once), a handler removes the temporary files and exits with 128 + the signal
 * number. The rest of the time the signal keeps its default action (when nothing else listens
 * to it): the process ends at once, even in the middle of synchronous work, and there is
 * nothing to clean up.
 */
export function exitOnSignals(signals: readonly NodeJS.Signals[]): void {
  if (!watching) {
    watching = true;
    writing = writeInFlight();
    watchWrites((now) => {
      writing = now;
      sync();
    });
  }
  for (const signal of signals) armed.add(signal);
  sync();
}
