/**
 * Watches `servers.config.yaml` and calls back, debounced, when its content changes.
 *
 * It watches the file's directory rather than the file: editors save by writing a new file and
 * renaming it over the old one, and Kubernetes updates a mounted ConfigMap by swapping a `..data`
 * symlink, and a watch on the old inode sees neither. Any event in the directory re-reads the
 * file; only a change of its content (by SHA-256) triggers the callback, so touching the file or
 * unrelated files in the same directory does nothing.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log.ts';

export type ConfigWatcherOptions = {
  readonly path: string;
  /** Quiet time after the last event before the file is re-read. */
  readonly debounceMs: number;
  readonly log: Logger;
  /** Called with no argument when the content changed; errors are logged, never thrown. */
  onChange(): Promise<unknown>;
};

export class ConfigWatcher {
  readonly #options: ConfigWatcherOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #digest: string | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(options: ConfigWatcherOptions) {
    this.#options = options;
  }

  /** Records the current content (so an unchanged file never triggers) and starts watching. */
  async start(): Promise<void> {
    this.#digest = await this.#read();
    this.#watcher = watch(dirname(this.#options.path), { persistent: false }, () => this.#schedule());
    this.#watcher.on('error', (err) =>
      this.#options.log.warn({ err }, 'config watch failed; reload with SIGHUP'),
    );
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      // Checks run one after another, so two quick saves never reload out of order.
      this.#running = this.#running.then(() => this.#check());
    }, this.#options.debounceMs);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const digest = await this.#read();
    if (digest === undefined || digest === this.#digest) return;
    this.#digest = digest;
    try {
      await this.#options.onChange();
    } catch (err) {
      this.#options.log.error({ err }, 'config reload failed');
    }
  }

  /** The content's digest, or undefined while the file is missing (mid-rename). */
  async #read(): Promise<string | undefined> {
    try {
      return createHash('sha256')
        .update(await readFile(this.#options.path))
        .digest('hex');
    } catch {
      return undefined;
    }
  }
}
