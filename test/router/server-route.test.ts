/**
 * The routes a tenant's sessions reach (its own servers and those shared with it by a grant),
 * what a grant lets it see of a catalog, and what changed between two derivations.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { buildLiveView } from '../../src/control/live-view.ts';
import { grantedCatalog, routesOf, sharingChange, type SharedGrant } from '../../src/router/server-route.ts';
import type { Grant, Tenant } from '../../src/store/records.ts';
import { EMPTY_CATALOG } from '../../src/upstream/server-catalog.ts';
import type { UpstreamServer } from '../../src/upstream/upstream-server.ts';
import { fixtureServer, testConfig } from '../support/harness.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');

const config = testConfig({
  servers: {
    kb: fixtureServer({ mode: 'tenant' }),
    bare: fixtureServer({ mode: 'tenant', namespace: false }),
    web: fixtureServer({ mode: 'shared' }),
  },
});

/** Only what routesOf reads of a server. */
function servers(): Map<string, UpstreamServer> {
  return new Map(
    Object.entries(config.servers).map(([name, settings]) => [
      name,
      { name, mode: settings.mode, settings } as unknown as UpstreamServer,
    ]),
  );
}

function tenant(id: string, status: Tenant['status'] = 'active'): Tenant {
  return { id, name: id, tier: 'standard', status, createdAt: '2026-01-01T00:00:00Z' } as Tenant;
}

function grant(fields: Partial<Grant>): Grant {
  return {
    id: 'g1',
    ownerTenantId: 'red',
    server: 'kb',
    granteeTenantId: 'blue',
    grantedByTenantId: 'red',
    parentGrantId: null,
    access: 'read',
    tools: null,
    expiresAt: null,
    allowResharing: false,
    createdAt: '2026-01-01T00:00:00Z',
    revokedAt: null,
    ...fields,
  };
}

function view(grants: Grant[], tenants: Tenant[] = [tenant('red'), tenant('blue'), tenant('green')]) {
  const snapshot = { version: 1, tenants, serverConfigs: [], grants };
  return buildLiveView(config, snapshot, NOW).view;
}

const names = (routes: { name: string }[]) => routes.map((route) => route.name);

describe('routes', () => {
  it("a grantee's routes are its own servers in config order, then the shared one, on the owner's pool", () => {
    const routes = routesOf(view([grant({})]), servers(), 'blue', NOW);
    expect(names(routes)).toEqual(['kb', 'bare', 'web', 'red.kb']);
    expect(routes.map((route) => route.poolTenant)).toEqual(['blue', 'blue', 'blue', 'red']);
    expect(routes[3]?.grant).toMatchObject({ id: 'g1', owner: 'red', access: 'read', expiresAt: Infinity });
  });

  it('a third tenant and the owner have no route through the grant', () => {
    const current = view([grant({})]);
    expect(names(routesOf(current, servers(), 'green', NOW))).toEqual(['kb', 'bare', 'web']);
    expect(names(routesOf(current, servers(), 'red', NOW))).toEqual(['kb', 'bare', 'web']);
  });

  it('a shared server is always name-spaced, even one whose own tools are bare', () => {
    const routes = routesOf(view([grant({ server: 'bare' })]), servers(), 'blue', NOW);
    expect(routes.find((route) => route.name === 'bare')?.spaced).toBe(false);
    expect(routes.find((route) => route.name === 'red.bare')?.spaced).toBe(true);
  });

  it('a grant is inert while its owner is suspended, and for a server that is not mode: tenant', () => {
    const suspended = view([grant({})], [tenant('red', 'suspended'), tenant('blue')]);
    expect(names(routesOf(suspended, servers(), 'blue', NOW))).not.toContain('red.kb');
    expect(names(routesOf(view([grant({ server: 'web' })]), servers(), 'blue', NOW))).not.toContain(
      'red.web',
    );
  });

  it('an expired or revoked grant gives no route; one expiring later does until then', () => {
    const later = new Date(NOW + 1_000).toISOString();
    expect(names(routesOf(view([grant({ expiresAt: later })]), servers(), 'blue', NOW))).toContain('red.kb');
    expect(
      names(routesOf(view([grant({ expiresAt: later })]), servers(), 'blue', NOW + 1_000)),
    ).not.toContain('red.kb');
    const revoked = grant({ revokedAt: new Date(NOW - 1).toISOString() });
    expect(names(routesOf(view([revoked]), servers(), 'blue', NOW))).not.toContain('red.kb');
  });

  it('a view built after an expiry leaves the grant out', () => {
    const expired = grant({ expiresAt: new Date(NOW).toISOString() });
    expect(view([expired]).grants).toEqual([]);
  });
});

describe('what a grant shares of a catalog', () => {
  const tool = (name: string, readOnly?: boolean): Tool => ({
    name,
    inputSchema: { type: 'object' },
    ...(readOnly === undefined ? {} : { annotations: { readOnlyHint: readOnly } }),
  });
  const catalog = {
    ...EMPTY_CATALOG,
    tools: [tool('search', true), tool('write', false), tool('unmarked')],
    prompts: [{ name: 'greet' }],
    resources: [{ uri: 'kb://a', name: 'a' }],
  };
  const shared = (fields: Partial<SharedGrant>): SharedGrant => ({
    id: 'g',
    owner: 'red',
    access: 'read',
    tools: null,
    expiresAt: Infinity,
    ...fields,
  });

  it('read: only tools marked readOnlyHint (absent means false), and every prompt and resource', () => {
    const seen = grantedCatalog(catalog, shared({}));
    expect(seen.tools.map((item) => item.name)).toEqual(['search']);
    expect(seen.prompts).toEqual(catalog.prompts);
    expect(seen.resources).toEqual(catalog.resources);
  });

  it('read with a tool list: exactly those tools, whatever their hints', () => {
    expect(grantedCatalog(catalog, shared({ tools: ['write'] })).tools.map((item) => item.name)).toEqual([
      'write',
    ]);
  });

  it('full: everything', () => {
    expect(grantedCatalog(catalog, shared({ access: 'full' }))).toBe(catalog);
  });
});

describe('what changed of the shared servers', () => {
  const at = (grants: Grant[]) => routesOf(view(grants), servers(), 'blue', NOW);

  it('nothing, when the same grants are in force', () => {
    expect(sharingChange(at([grant({})]), at([grant({})]))).toEqual({ changed: false, ended: [] });
  });

  it('a new grant is a change with nothing ended; a gone one ends its route', () => {
    expect(sharingChange(at([]), at([grant({})]))).toEqual({ changed: true, ended: [] });
    const gone = sharingChange(at([grant({})]), at([]));
    expect(gone.changed).toBe(true);
    expect(names([...gone.ended])).toEqual(['red.kb']);
  });

  it('a grant replaced by a wider one is a change that ends nothing', () => {
    const change = sharingChange(at([grant({})]), at([grant({ id: 'g2', access: 'full' })]));
    expect(change).toEqual({ changed: true, ended: [] });
  });
});
