import { describe, expect, it } from 'vitest';
import { planReload } from '../../src/control/reload-plan.ts';
import { testConfig } from '../support/harness.ts';

const base = {
  servers: {
    alpha: { command: 'alpha' },
    beta: { command: 'beta', env: { TOKEN: 'one' } },
    gamma: { command: 'gamma' },
  },
};

describe('planReload', () => {
  it('keeps servers whose spec did not change and names the added, removed and changed ones', () => {
    const current = testConfig(base);
    const next = testConfig({
      servers: {
        alpha: { command: 'alpha' },
        beta: { command: 'beta', env: { TOKEN: 'two' } },
        delta: { command: 'delta' },
      },
    });
    const plan = planReload(current, next);
    expect(plan).toMatchObject({
      added: ['delta'],
      removed: ['gamma'],
      changed: ['beta'],
      unchanged: ['alpha'],
      tenantsChanged: false,
      restartRequired: [],
    });
  });

  it('treats a changed environment allowlist as a change of every server', () => {
    const plan = planReload(testConfig(base), testConfig({ ...base, gateway: { envAllowlist: ['PATH'] } }));
    expect(plan.changed).toEqual(['alpha', 'beta', 'gamma']);
    expect(plan.restartRequired).toEqual([]);
  });

  it('reports settings that only apply at start and keeps their running values', () => {
    const current = testConfig(base);
    const next = testConfig({ ...base, gateway: { http: { port: 9999 }, pageSize: 7 } });
    const plan = planReload(current, next);
    expect(plan.restartRequired).toEqual(['gateway.pageSize', 'gateway.http']);
    expect(plan.apply.gateway.http.port).toBe(current.gateway.http.port);
    expect(plan.apply.gateway.pageSize).toBe(current.gateway.pageSize);
    expect(plan.changed).toEqual([]);
  });

  it('a changed pinning or trust setting keeps the server and its processes: it applies per call', () => {
    const next = testConfig({
      servers: { ...base.servers, alpha: { command: 'alpha', pinning: 'warn', trust: 'auto' } },
    });
    const plan = planReload(testConfig(base), next);
    expect(plan.changed).toEqual([]);
    expect(plan.apply.servers.alpha).toMatchObject({ pinning: 'warn', trust: 'auto' });
  });

  it('sees a tenant change without touching the servers', () => {
    const next = testConfig({ ...base, tenants: { acme: { name: 'Acme', servers: ['alpha'] } } });
    const plan = planReload(testConfig(base), next);
    expect(plan.tenantsChanged).toBe(true);
    expect(plan.unchanged).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('applies authentication changes live', () => {
    const next = testConfig({
      ...base,
      gateway: { auth: { apiKeys: { pepper: 'p'.repeat(32) } } },
    });
    const plan = planReload(testConfig(base), next);
    expect(plan.authChanged).toBe(true);
    expect(plan.restartRequired).toEqual([]);
  });

  it('applies retention changes live: the job reads them at its next run', () => {
    const next = testConfig({ ...base, gateway: { retention: { tiers: { free: '7d' } } } });
    const plan = planReload(testConfig(base), next);
    expect(plan.restartRequired).toEqual([]);
    expect(plan.apply.gateway.retention.tiers).toEqual({ free: 7 * 86_400_000 });
  });
});
