/**
 * The model and activation-dump files the extension offers to analyse, read from its own
 * manifest's model-viewer selectors. A unit test holds those selectors, and the explorer
 * menus' when-clauses, to the core's format registry, so the host needs no format code (which
 * would pull the model readers into the extension host). No VS Code imports.
 */
import * as path from 'node:path';
import { contributes } from '../../../package.json';
import { DUMP_EXTENSIONS } from '../../core/dumps/dumpFiles';

/** What the manifest's selectors name: extensions (`.onnx`) and folder markers (`model.json`). */
export interface AnalysableNames {
  extensions: string[];
  markers: string[];
}

/** Reads the model viewer's `filenamePattern`s: `*.onnx` is an extension, `**\/model.json` a marker. */
export function analysableNames(
  editors: { selector: { filenamePattern: string }[] }[],
): AnalysableNames {
  const extensions: string[] = [];
  const markers: string[] = [];
  for (const { selector } of editors) {
    for (const { filenamePattern } of selector) {
      const ext = /^\*(\.[\w.]+)$/.exec(filenamePattern);
      if (ext) extensions.push(ext[1].toLowerCase());
      else markers.push(filenamePattern.replace(/^\*\*\//, '').toLowerCase());
    }
  }
  return { extensions, markers };
}

const names = analysableNames(contributes.customEditors);

/** Whether a file is one the extension can analyse (a model file, a folder marker or a dump). */
export function isAnalysableFile(file: string): boolean {
  const base = path.basename(file).toLowerCase();
  return names.markers.includes(base) || names.extensions.includes(path.extname(base));
}

/** Whether a file is a folder model's marker (`model.json`). */
export function isFolderMarker(file: string): boolean {
  return names.markers.includes(path.basename(file).toLowerCase());
}

/** The marker files a model folder may hold (`dir/model.json`). */
export function markerFiles(dir: string): string[] {
  return names.markers.map((m) => path.join(dir, m));
}

/** File-dialog filters: model files (with the folder markers' extensions) and activation dumps. */
export function modelDialogFilters(withDumps: boolean): Record<string, string[]> {
  const bare = (e: string): string => e.replace(/^\./, '');
  const models = [
    ...names.markers.map((m) => bare(path.extname(m))),
    ...names.extensions.filter((e) => !DUMP_EXTENSIONS.includes(e)).map(bare),
  ];
  return {
    Models: [...new Set(models)],
    ...(withDumps ? { 'Activation dumps': DUMP_EXTENSIONS.map(bare) } : {}),
  };
}
