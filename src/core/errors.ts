/** Longest message a {@link UserError} carries (characters); longer ones are cut with "...". */
export const MAX_MESSAGE = 300;
/** Longest quote of file content inside a message (characters), see {@link excerpt}. */
export const MAX_EXCERPT = 60;

/**
 * Characters that must not reach a terminal or a notification as they are: C0/C1 controls
 * (escape sequences), Unicode format characters (bidi overrides, zero-width), private-use
 * and unassigned code points, lone surrogates, and the replacement character U+FFFD that
 * decoding raw bytes as text produces.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\uFFFD]/gu;
/** Line and paragraph breaks, with the white space around them. */
const BREAKS = /\s*[\r\n\u2028\u2029\u0085\v\f]+\s*/g;

/**
 * One printable line of at most `max` characters: line breaks (and the white space around
 * them) become one space, tabs a space, any other unprintable character '?', and a longer
 * text is cut, ending with "...".
 */
export function oneLine(text: string, max = MAX_MESSAGE): string {
  const flat = text.replace(BREAKS, ' ').replace(/\t/g, ' ').replace(UNPRINTABLE, '?');
  if (flat.length <= max) return flat;
  // Cut on a code point boundary (a surrogate pair is not split).
  let cut = flat.slice(0, Math.max(0, max - 3));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + '...';
}

/** `message` cut to leave room for `suffix`, then the suffix whole (the part that says what to do). */
export function withSuffix(message: string, suffix: string): string {
  return oneLine(message, Math.max(40, MAX_MESSAGE - suffix.length)) + suffix;
}

/**
 * A short printable quote of file content (a cell, a header, a line) for an error message:
 * {@link oneLine} with at most `max` characters. Use it whenever a message embeds text read
 * from a file, so that a 200 KB header or raw bytes never reach the user's terminal.
 */
export function excerpt(text: string, max = MAX_EXCERPT): string {
  return oneLine(text.trim(), max);
}

/**
 * An error caused by the user's input (a file, a flag, a probe set). Its message is one line
 * that names the file, what was expected and what was found; the CLI prints it without a
 * stack trace and the extension shows it as a notification. Every message goes through
 * {@link oneLine}: one printable line of at most {@link MAX_MESSAGE} characters.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(oneLine(message));
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
