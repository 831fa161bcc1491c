/**
 * An error caused by the user's input (a file, a flag, a probe set). Its message is one line
 * that names the file, what was expected and what was found; the CLI prints it without a
 * stack trace and the extension shows it as a notification.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Raised when an AbortSignal stops a long job. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
