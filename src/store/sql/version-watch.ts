/**
 * `Store.watch`: tells listeners the store version moved. Changes made through this Store are
 * reported as they commit; changes by other processes arrive by the backend's push (PostgreSQL
 * LISTEN/NOTIFY) and, as a fallback for missed pushes and for SQLite, by polling the one-row
 * version counter. The poll runs only while someone listens, on an unref()ed timer.
 */
export type VersionWatch = {
  /** A version this process committed. */
  committed(version: number): void;
  watch(listener: (version: number) => void): () => void;
  close(): Promise<void>;
};

export function createVersionWatch(options: {
  read: () => Promise<number>;
  listen: (onVersion: (version: number) => void) => Promise<() => Promise<void>>;
  pollMs: number;
  onError: (error: unknown) => void;
}): VersionWatch {
  const listeners = new Set<(version: number) => void>();
  let seen = -1;
  let timer: NodeJS.Timeout | undefined;
  let stopListening: Promise<() => Promise<void>> | undefined;

  function saw(version: number): void {
    if (!Number.isSafeInteger(version) || version <= seen) return;
    seen = version;
    for (const listener of [...listeners]) {
      try {
        listener(version);
      } catch (error) {
        options.onError(error);
      }
    }
  }

  function poll(): void {
    options.read().then(saw, options.onError);
  }

  function start(): void {
    options.read().then((version) => {
      seen = Math.max(seen, version);
    }, options.onError);
    timer = setInterval(poll, options.pollMs);
    timer.unref();
    stopListening = options.listen(saw);
    stopListening.catch(options.onError);
  }

  async function stop(): Promise<void> {
    clearInterval(timer);
    timer = undefined;
    const stopping = stopListening;
    stopListening = undefined;
    if (stopping) await (await stopping)();
  }

  return {
    committed: saw,
    watch(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && timer === undefined) start();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop().catch(options.onError);
      };
    },
    async close() {
      listeners.clear();
      await stop().catch(() => undefined);
    },
  };
}
