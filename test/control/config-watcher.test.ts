import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigWatcher } from '../../src/control/config-watcher.ts';
import { silentLogger } from '../../src/log.ts';
import { eventually } from '../support/harness.ts';

describe('ConfigWatcher', () => {
  let watcher: ConfigWatcher | undefined;
  afterEach(() => watcher?.close());

  function watched(): { path: string; changes: () => number } {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-watch-'));
    const path = join(dir, 'servers.config.yaml');
    writeFileSync(path, 'servers: {}\n');
    let count = 0;
    watcher = new ConfigWatcher({
      path,
      debounceMs: 50,
      log: silentLogger(),
      onChange: async () => {
        count += 1;
      },
    });
    return { path, changes: () => count };
  }

  it('calls back once for a burst of writes that change the content', async () => {
    const { path, changes } = watched();
    await watcher?.start();
    for (let index = 0; index < 5; index += 1) writeFileSync(path, `servers: {} # ${index}\n`);
    await eventually(() => changes() === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(changes()).toBe(1);
  });

  it('sees a save that renames a new file over the old one', async () => {
    const { path, changes } = watched();
    await watcher?.start();
    writeFileSync(`${path}.tmp`, 'servers: {} # renamed\n');
    renameSync(`${path}.tmp`, path);
    await eventually(() => changes() === 1);
  });

  it('ignores a write that leaves the content as it was, and other files in the folder', async () => {
    const { path, changes } = watched();
    await watcher?.start();
    writeFileSync(path, 'servers: {}\n');
    writeFileSync(join(path, '..', 'notes.txt'), 'unrelated');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes()).toBe(0);
  });
});
