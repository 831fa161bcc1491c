/** Pieces of the webviews' content security policy. Pure (no VS Code). */
import { randomBytes } from 'node:crypto';

/** A fresh nonce for one render: 32 letters and digits. */
export function makeNonce(): string {
  let nonce = '';
  while (nonce.length < 32)
    nonce += randomBytes(24)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '');
  return nonce.slice(0, 32);
}

/**
 * The one host source our resources come from. VS Code 1.100 gives `webview.cspSource` as
 * "'self' https://*.vscode-cdn.net", and `asWebviewUri` URIs are on that https host, so the
 * unquoted host source is all the policy needs (the shell accepts a single source).
 */
export function resourceCspSource(cspSource: string): string {
  return cspSource.split(/\s+/).find((t) => t !== '' && !t.startsWith("'")) ?? cspSource;
}
