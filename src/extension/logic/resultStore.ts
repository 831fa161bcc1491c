/**
 * The per-workspace store of analysis results: each report is a JSON file named by its cache
 * key (reports/<key>.json), and index.json keeps, per model path, one entry per context (probe,
 * reference, settings: see resultContext.ts) with the few numbers the lenses, diagnostics and
 * tree need, and which of them is current. Writes are atomic. No VS Code imports: listeners
 * are plain callbacks.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import type { AnalysisReport, CompareReport, Signature } from '../../core/report/schema';
import { analysisContext, compareContext, type ResultContext } from './resultContext';

/** Results kept per model; the oldest context beyond it is forgotten (its report stays on disk until cleared). */
const CONTEXTS_PER_MODEL = 8;

export interface ResultEntry {
  /** Absolute, normalised path of the analysed model or dump. */
  modelPath: string;
  /**
   * The cache key of the analysis (its report is reports/<key>.json); for a compare's result,
   * the model's latest analysis before it, or '' when it was only compared.
   */
  key: string;
  /** ISO time of the analysis. */
  analysedAt: string;
  /**
   * ISO time the model's content was last seen to match this result (its analysis, a cache
   * hit, a compare): a model file modified later on disk makes the result stale.
   */
  checkedAt: string;
  /** Median H over all measured neurons (nats). */
  entropyMedian: number;
  /** Median off-diagonal I over all measured pairs (nats). */
  miMedian: number;
  backend: string | null;
  /** The signature from the latest analysis with a baseline or the latest compare; null when there was no reference. */
  signature: Signature | null;
  /** Where the signature came from: 'baseline' (analysis against memlens.baseline) or 'compare'. */
  signatureSource: 'baseline' | 'compare' | null;
  /** The compare report that gave the signature, when it came from a compare. */
  compareKey: string | null;
  /** What the model was run on and read against. */
  context: ResultContext;
}

interface IndexFile {
  version: 2;
  /** Every kept result, newest first per model. */
  entries: ResultEntry[];
  /** Per model path, the id of the context shown (lenses, tree, viewer). */
  current: Record<string, string>;
  /** The model of the latest result a user asked for (not a baseline measured on the side). */
  newest?: string;
  compares: { key: string; createdAt: string; paths: string[] }[];
}

/** Index entries written before contexts existed (version 1): one per model. */
type LegacyEntry = Omit<ResultEntry, 'context' | 'checkedAt'> & { checkedAt?: string };

function legacyContext(e: LegacyEntry): ResultContext {
  const kind =
    e.signatureSource === 'compare' ? 'compare' : e.signatureSource ? 'baseline' : 'alone';
  return {
    id: `v1-${kind}`,
    kind,
    probe: null,
    reference: e.signature?.reference ?? null,
    settings: 'settings not recorded',
  };
}

export type StoreListener = () => void;

export class ResultStore {
  /** Per model path, its results newest first. */
  private resultsByPath = new Map<string, ResultEntry[]>();
  private currentByPath = new Map<string, string>();
  private newestPath: string | undefined;
  private compares: IndexFile['compares'] = [];
  private listeners = new Set<StoreListener>();
  /** Index writes run one after another, each writing the state current when it starts. */
  private writes: Promise<void> = Promise.resolve();
  /** Settles when the index has been read; every change waits for it, so none is lost. */
  private loaded: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

  private get indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  reportFile(key: string): string {
    return path.join(this.dir, 'reports', `${key}.json`);
  }

  /** The measurement cache the analysis child reads and fills (the core's diskMeasurementCache). */
  get measurementsDir(): string {
    return path.join(this.dir, 'measurements');
  }

  compareFile(key: string): string {
    return path.join(this.dir, 'compares', `${key}.json`);
  }

  /**
   * Reads index.json, then tells the listeners; a missing or unreadable index starts empty
   * (the cache is disposable).
   */
  load(): Promise<void> {
    this.loaded = this.readIndex();
    return this.loaded;
  }

  /** Settles once the index is read (at once when load was never called). */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  private async readIndex(): Promise<void> {
    this.resultsByPath = new Map();
    this.currentByPath = new Map();
    this.newestPath = undefined;
    this.compares = [];
    try {
      const parsed = JSON.parse(await fs.readFile(this.indexFile, 'utf8')) as
        IndexFile | { version: 1; entries: LegacyEntry[]; compares?: IndexFile['compares'] };
      if (parsed.version === 2 && Array.isArray(parsed.entries)) {
        for (const e of parsed.entries) this.addResult(e, false);
        for (const [p, id] of Object.entries(parsed.current ?? {})) this.currentByPath.set(p, id);
        this.newestPath = typeof parsed.newest === 'string' ? parsed.newest : undefined;
        this.compares = Array.isArray(parsed.compares) ? parsed.compares : [];
      } else if (parsed.version === 1 && Array.isArray(parsed.entries)) {
        // Indexes written before checkedAt existed: the analysis time is the last check.
        for (const e of parsed.entries)
          this.addResult(
            { ...e, checkedAt: e.checkedAt ?? e.analysedAt, context: legacyContext(e) },
            true,
          );
        this.compares = Array.isArray(parsed.compares) ? parsed.compares : [];
      }
    } catch {
      this.resultsByPath = new Map();
      this.currentByPath = new Map();
      this.compares = [];
    }
    for (const l of this.listeners) l();
  }

  /**
   * Keeps `entry` as its model's result in its context (replacing that context's older one),
   * newest first, at most CONTEXTS_PER_MODEL; `current`: whether it becomes the one shown.
   */
  private addResult(entry: ResultEntry, current: boolean): void {
    const kept = (this.resultsByPath.get(entry.modelPath) ?? []).filter(
      (e) => e.context.id !== entry.context.id,
    );
    const results = [entry, ...kept]
      .sort((a, b) => b.analysedAt.localeCompare(a.analysedAt))
      .slice(0, CONTEXTS_PER_MODEL);
    this.resultsByPath.set(entry.modelPath, results);
    if (current) this.currentByPath.set(entry.modelPath, entry.context.id);
  }

  onDidChange(listener: StoreListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private save(): Promise<void> {
    const write = async (): Promise<void> => {
      const index: IndexFile = {
        version: 2,
        entries: [...this.resultsByPath.values()].flat(),
        current: Object.fromEntries(this.currentByPath),
        ...(this.newestPath === undefined ? {} : { newest: this.newestPath }),
        compares: this.compares,
      };
      await fs.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.indexFile, JSON.stringify(index, null, 1));
    };
    this.writes = this.writes.catch(() => undefined).then(write);
    for (const l of this.listeners) l();
    return this.writes;
  }

  /** The current result of every model, newest first. */
  entries(): ResultEntry[] {
    const current: ResultEntry[] = [];
    for (const p of this.resultsByPath.keys()) {
      const e = this.latest(p);
      if (e) current.push(e);
    }
    return current.sort((a, b) => b.analysedAt.localeCompare(a.analysedAt));
  }

  /** A model's current result: the one the user chose, else its newest. */
  latest(modelPath: string): ResultEntry | undefined {
    const resolved = path.resolve(modelPath);
    const results = this.resultsByPath.get(resolved);
    const id = this.currentByPath.get(resolved);
    return results?.find((e) => e.context.id === id) ?? results?.[0];
  }

  /** Every kept result of a model, one per context, newest first. */
  results(modelPath: string): ResultEntry[] {
    return [...(this.resultsByPath.get(path.resolve(modelPath)) ?? [])];
  }

  /** Makes a model's result in another context the one shown. False when there is none. */
  async select(modelPath: string, contextId: string): Promise<boolean> {
    await this.loaded;
    const resolved = path.resolve(modelPath);
    if (!this.resultsByPath.get(resolved)?.some((e) => e.context.id === contextId)) return false;
    this.currentByPath.set(resolved, contextId);
    await this.save();
    return true;
  }

  /**
   * The result the user asked for last (for the side panel): the model of the latest analysis
   * or compare, not a baseline measured for its reading; else the most recent entry.
   */
  newest(): ResultEntry | undefined {
    return (this.newestPath && this.latest(this.newestPath)) || this.entries()[0];
  }

  /** A cached report by key, or undefined when it is not (or no longer) stored. */
  async report(key: string): Promise<AnalysisReport | undefined> {
    try {
      const report = JSON.parse(await fs.readFile(this.reportFile(key), 'utf8')) as AnalysisReport;
      return report.schema === 'memlens.report' ? report : undefined;
    } catch {
      return undefined;
    }
  }

  /** The signature stored with the analysis `key` (analysed against a baseline), else null. */
  async signature(key: string): Promise<Signature | null> {
    try {
      return JSON.parse(await fs.readFile(this.signatureFile(key), 'utf8')) as Signature;
    } catch {
      return null;
    }
  }

  private signatureFile(key: string): string {
    return path.join(this.dir, 'reports', `${key}.signature.json`);
  }

  async compareReport(key: string): Promise<CompareReport | undefined> {
    try {
      const report = JSON.parse(await fs.readFile(this.compareFile(key), 'utf8')) as CompareReport;
      return report.schema === 'memlens.compare' ? report : undefined;
    } catch {
      return undefined;
    }
  }

  /** The latest compare, if any. */
  latestCompare(): { key: string; createdAt: string; paths: string[] } | undefined {
    return this.compares[this.compares.length - 1];
  }

  /**
   * Stores an analysis under `key` as its model's result in its context (alone, or against the
   * baseline its signature names), and makes it current unless `becomeCurrent` is false (a
   * baseline measured for another model's reading does not take over the baseline's view).
   * `checkedAt`: when the model's content was seen to match (now, unless the report comes
   * from elsewhere).
   */
  async putAnalysis(
    modelPath: string,
    key: string,
    report: AnalysisReport,
    signature: Signature | null,
    checkedAt: string = new Date().toISOString(),
    becomeCurrent = true,
  ): Promise<ResultEntry> {
    await this.loaded;
    const file = this.reportFile(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(report));
    if (signature) await writeFileAtomic(this.signatureFile(key), JSON.stringify(signature));
    const resolved = path.resolve(modelPath);
    const entry: ResultEntry = {
      modelPath: resolved,
      key,
      analysedAt: report.createdAt,
      checkedAt,
      entropyMedian: report.summary.entropy.median,
      miMedian: report.summary.mi.median,
      backend: report.backend,
      signature,
      signatureSource: signature ? 'baseline' : null,
      compareKey: null,
      context: analysisContext(report, signature),
    };
    this.addResult(entry, becomeCurrent || !this.currentByPath.has(resolved));
    if (becomeCurrent) this.newestPath = resolved;
    await this.save();
    return entry;
  }

  /** Records that a model's content was just seen to match its current result (a cache hit). */
  async markChecked(modelPath: string): Promise<void> {
    await this.loaded;
    const entry = this.latest(modelPath);
    if (!entry) return;
    this.addResult({ ...entry, checkedAt: new Date().toISOString() }, false);
    await this.save();
  }

  /**
   * Stores a compare report and gives every model in it (without an error) its result in the
   * compare's context, made current.
   */
  async putCompare(
    key: string,
    report: CompareReport,
    checkedAt: string = new Date().toISOString(),
  ): Promise<void> {
    await this.loaded;
    const file = this.compareFile(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(report));
    const context = compareContext(report);
    for (const m of report.models) {
      if (m.error !== undefined) continue;
      const resolved = path.resolve(m.path);
      const analysed = this.results(resolved).find((e) => e.context.kind !== 'compare');
      this.addResult(
        {
          modelPath: resolved,
          key: analysed?.key ?? '',
          analysedAt: report.createdAt,
          checkedAt,
          entropyMedian: m.summary.entropy.median,
          miMedian: m.summary.mi.median,
          backend: analysed?.backend ?? null,
          signature: m.signature,
          signatureSource: 'compare',
          compareKey: key,
          context,
        },
        true,
      );
    }
    this.compares = [
      ...this.compares.filter((c) => c.key !== key),
      { key, createdAt: report.createdAt, paths: report.models.map((m) => path.resolve(m.path)) },
    ];
    await this.save();
  }

  /** Forgets every result and deletes the stored reports and measurements. */
  async clear(): Promise<void> {
    await this.loaded;
    this.resultsByPath.clear();
    this.currentByPath.clear();
    this.newestPath = undefined;
    this.compares = [];
    await fs.rm(path.join(this.dir, 'reports'), { recursive: true, force: true });
    await fs.rm(path.join(this.dir, 'compares'), { recursive: true, force: true });
    await fs.rm(this.measurementsDir, { recursive: true, force: true });
    await this.save();
  }
}
