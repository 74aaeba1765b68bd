/** The `usage` stage: counts each call of a principal, for policy conditions on recent usage. */
import type { Call, Next, Reply, Stage } from './pipeline.ts';
import type { RecentUsage } from './recent-usage.ts';

const COUNTED: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

export function usageStage(usage: RecentUsage): Stage {
  return {
    name: 'usage',
    handle(call: Call, next: Next): Promise<Reply> {
      if (COUNTED.has(call.method)) usage.record(principalKey(call));
      return next(call);
    },
  };
}

/** One principal across its sessions: tenant, how it authenticated, and who. */
export function principalKey(call: Call): string {
  const { tenantId, via, subject } = call.session.principal;
  return `${tenantId}\u0000${via}\u0000${subject}`;
}
