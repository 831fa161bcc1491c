/**
 * The per-workspace store of analysis results: each report is a JSON file named by its cache
 * key (reports/<key>.json), and index.json keeps, per model path, the latest entry with the
 * few numbers the lenses, diagnostics and tree need. Writes are atomic. No VS Code imports:
 * listeners are plain callbacks.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import type { AnalysisReport, CompareReport, Signature } from '../../core/report/schema';

export interface ResultEntry {
  /** Absolute, normalised path of the analysed model or dump. */
  modelPath: string;
  /** The cache key of the latest analysis (its report is reports/<key>.json). */
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
}

interface IndexFile {
  version: 1;
  entries: ResultEntry[];
  compares: { key: string; createdAt: string; paths: string[] }[];
}

export type StoreListener = () => void;

export class ResultStore {
  private entriesByPath = new Map<string, ResultEntry>();
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
    try {
      const parsed = JSON.parse(await fs.readFile(this.indexFile, 'utf8')) as IndexFile;
      if (parsed.version === 1 && Array.isArray(parsed.entries)) {
        // Indexes written before checkedAt existed: the analysis time is the last check.
        this.entriesByPath = new Map(
          parsed.entries.map((e) => [
            e.modelPath,
            { ...e, checkedAt: e.checkedAt ?? e.analysedAt },
          ]),
        );
        this.compares = Array.isArray(parsed.compares) ? parsed.compares : [];
      }
    } catch {
      this.entriesByPath = new Map();
      this.compares = [];
    }
    for (const l of this.listeners) l();
  }

  onDidChange(listener: StoreListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private save(): Promise<void> {
    const write = async (): Promise<void> => {
      const index: IndexFile = {
        version: 1,
        entries: [...this.entriesByPath.values()],
        compares: this.compares,
      };
      await fs.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.indexFile, JSON.stringify(index, null, 1));
    };
    this.writes = this.writes.catch(() => undefined).then(write);
    for (const l of this.listeners) l();
    return this.writes;
  }

  entries(): ResultEntry[] {
    return [...this.entriesByPath.values()].sort((a, b) =>
      b.analysedAt.localeCompare(a.analysedAt),
    );
  }

  latest(modelPath: string): ResultEntry | undefined {
    return this.entriesByPath.get(path.resolve(modelPath));
  }

  /** The most recent entry overall (for the side panel). */
  newest(): ResultEntry | undefined {
    return this.entries()[0];
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
   * Stores an analysis under `key` and makes it the latest for its model. A signature from a
   * baseline replaces the old one; without one, an earlier compare's signature is kept (it
   * still describes this model unless the model changed, which changes the key). `checkedAt`:
   * when the model's content was seen to match (now, unless the report comes from elsewhere).
   */
  async putAnalysis(
    modelPath: string,
    key: string,
    report: AnalysisReport,
    signature: Signature | null,
    checkedAt: string = new Date().toISOString(),
  ): Promise<ResultEntry> {
    await this.loaded;
    const file = this.reportFile(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(report));
    if (signature) await writeFileAtomic(this.signatureFile(key), JSON.stringify(signature));
    const resolved = path.resolve(modelPath);
    const previous = this.entriesByPath.get(resolved);
    const keepCompare =
      signature === null && previous?.signatureSource === 'compare' && previous.key === key;
    const entry: ResultEntry = {
      modelPath: resolved,
      key,
      analysedAt: report.createdAt,
      checkedAt,
      entropyMedian: report.summary.entropy.median,
      miMedian: report.summary.mi.median,
      backend: report.backend,
      signature: signature ?? (keepCompare ? previous.signature : null),
      signatureSource: signature ? 'baseline' : keepCompare ? 'compare' : null,
      compareKey: keepCompare ? previous.compareKey : null,
    };
    this.entriesByPath.set(resolved, entry);
    await this.save();
    return entry;
  }

  /** Records that a model's content was just seen to match its latest result (a cache hit). */
  async markChecked(modelPath: string): Promise<void> {
    await this.loaded;
    const resolved = path.resolve(modelPath);
    const entry = this.entriesByPath.get(resolved);
    if (!entry) return;
    this.entriesByPath.set(resolved, { ...entry, checkedAt: new Date().toISOString() });
    await this.save();
  }

  /**
   * Stores a compare report and gives every model in it (without an error) its signature.
   * Models not analysed alone yet get an entry whose numbers come from the compare.
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
    for (const m of report.models) {
      if (m.error !== undefined) continue;
      const resolved = path.resolve(m.path);
      const previous = this.entriesByPath.get(resolved);
      this.entriesByPath.set(resolved, {
        modelPath: resolved,
        key: previous?.key ?? '',
        analysedAt: report.createdAt,
        checkedAt,
        entropyMedian: m.summary.entropy.median,
        miMedian: m.summary.mi.median,
        backend: previous?.backend ?? null,
        signature: m.signature,
        signatureSource: 'compare',
        compareKey: key,
      });
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
    this.entriesByPath.clear();
    this.compares = [];
    await fs.rm(path.join(this.dir, 'reports'), { recursive: true, force: true });
    await fs.rm(path.join(this.dir, 'compares'), { recursive: true, force: true });
    await fs.rm(this.measurementsDir, { recursive: true, force: true });
    await this.save();
  }
}
