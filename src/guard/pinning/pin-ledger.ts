/**
 * Where pinning keeps its pins: the store's `pins` group, or, for a gateway without a store
 * (`mcplane stdio`), a private in-memory SQLite store opened on first use, so both behave alike
 * by construction. In memory, pins last as long as the process: every start is a first sight,
 * and a change seen during the run stays quarantined until a restart, since nothing can approve
 * it (the admin API needs a store).
 */
import { openStore } from '../../store/open-store.ts';
import type { Store, ToolPins } from '../../store/store.ts';

export type PinLedger = Pick<ToolPins, 'state' | 'pin' | 'recordChange'>;

export function memoryPinLedger(): PinLedger & { close(): Promise<void> } {
  let opened: Promise<Store> | undefined;
  const pins = async (): Promise<ToolPins> => (await (opened ??= openStore('sqlite::memory:'))).pins;
  return {
    state: async (tenantId, server) => (await pins()).state(tenantId, server),
    pin: async (tenantId, server, next) => (await pins()).pin(tenantId, server, next),
    recordChange: async (tenantId, server, change) => (await pins()).recordChange(tenantId, server, change),
    async close() {
      const store = opened;
      opened = undefined;
      if (store) await (await store).close();
    },
  };
}
