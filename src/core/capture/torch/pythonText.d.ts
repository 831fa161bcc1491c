/** Python sources bundled as text (esbuild's text loader, scripts/bundles.mjs). */
declare module '*.py' {
  const source: string;
  export default source;
}
