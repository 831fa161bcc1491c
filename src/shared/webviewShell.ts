/**
 * The HTML document of a MemLens webview (panel or side view). Pure: the extension passes the
 * webview URIs of the bundled script and stylesheet, the webview's CSP source and a fresh
 * nonce. No report data goes into the HTML; it arrives later as a `report/show` message.
 */

export interface WebviewShellOptions {
  /** `webview.asWebviewUri(dist/webview.js)` as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(dist/webview.css)` as a string. */
  styleUri: string;
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce per render (letters and digits). */
  nonce: string;
  /** The document title, e.g. "MemLens: model.json". */
  title: string;
}

/** Escapes text for an HTML attribute value or element content. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The strict content security policy of a webview: only our script (by nonce) and styles. */
export function webviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/**
 * Builds the webview document. Throws if the nonce is not a plain token or the CSP source
 * contains characters that could end the policy (both come from the extension, not the user).
 */
export function webviewShellHtml(options: WebviewShellOptions): string {
  const { scriptUri, styleUri, cspSource, nonce, title } = options;
  if (!/^[A-Za-z0-9]{16,}$/.test(nonce)) {
    throw new Error('webviewShellHtml: the nonce must be at least 16 letters or digits');
  }
  if (/[;,'"\s]/.test(cspSource)) {
    throw new Error(`webviewShellHtml: unexpected characters in the CSP source ${cspSource}`);
  }
  const csp = webviewCsp(cspSource, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(styleUri)}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script nonce="${nonce}" src="${escapeHtml(scriptUri)}"></script>
</body>
</html>
`;
}
