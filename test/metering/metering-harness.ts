/**
 * A gateway over real HTTP on a real store, with a store tenant `blue` whose member key belongs
 * to a project, for the metering and billing tests.
 */
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Store } from '../../src/store/store.ts';
import { bearer, connectHttpClient, startHttpGateway, type HttpGateway } from '../http/http-harness.ts';
import { adminClient, platformKey, type Backend } from '../admin/admin-harness.ts';
import { fixtureServer } from '../support/harness.ts';

export type Api = ReturnType<typeof adminClient>;

export const METERED_CONFIG = {
  servers: {
    kb: fixtureServer({ mode: 'tenant', trust: 'auto', cost: { perCall: 0.5, perCpuSecond: 10 } }),
    shared: fixtureServer({ mode: 'shared', env: { FIXTURE_TOOLS_PREFIX: 's_' }, cost: { perCall: 0.25 } }),
  },
  gateway: { metering: { flushInterval: '50ms', costSampleInterval: '100ms' } },
};

export type Metered = {
  readonly http: HttpGateway;
  readonly store: Store;
  readonly root: Api;
  readonly rootKey: string;
};

export async function startMetered(
  backend: Backend,
  input: Record<string, unknown> = METERED_CONFIG,
): Promise<Metered> {
  const store = await backend.open();
  const rootKey = await platformKey(store);
  const http = await startHttpGateway(input, { store });
  return { http, store, root: adminClient(http.origin, rootKey), rootKey };
}

export type TenantKeys = {
  readonly admin: Api;
  readonly adminKey: string;
  readonly memberKey: string;
  readonly memberKeyId: string;
  readonly projectId: string;
};

/** A store tenant with a tenant-admin key and a member key in a project. */
export async function tenantWithKeys(metered: Metered, id: string): Promise<TenantKeys> {
  const { root, http } = metered;
  const created = await root('POST', '/tenants', { id, name: id.toUpperCase() });
  if (created.status !== 201) throw new Error(`tenant: ${JSON.stringify(created.body)}`);
  const project = await root('POST', `/tenants/${id}/projects`, { name: 'web' });
  const projectId = project.body.id as string;
  const admin = await root('POST', `/tenants/${id}/api-keys`, { name: 'admin', role: 'tenant-admin' });
  const member = await root('POST', `/tenants/${id}/api-keys`, { name: 'app', projectId });
  if (member.status !== 201) throw new Error(`key: ${JSON.stringify(member.body)}`);
  return {
    admin: adminClient(http.origin, admin.body.key as string),
    adminKey: admin.body.key as string,
    memberKey: member.body.key as string,
    memberKeyId: member.body.id as string,
    projectId,
  };
}

/** An SDK client over HTTP that answers sampling requests. */
export async function samplingClient(http: HttpGateway, key: string): Promise<Client> {
  const { client } = await connectHttpClient(http, bearer(key), { sampling: {} });
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: 'assistant',
    content: { type: 'text', text: 'sampled' },
    model: 'test-model',
  }));
  return client;
}
