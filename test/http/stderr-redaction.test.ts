/**
 * A child that prints its environment to stderr does not put the secrets the gateway gave it
 * (its server `env`, its tenant's overrides, its passthrough variables) into the gateway log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { secretScrubber } from '../../src/guard/secret-scrubber.ts';
import { capturedLog } from '../support/captured-log.ts';
import { eventually, fixtureServer } from '../support/harness.ts';
import { bearer, connectHttpClient, newApiKey, startHttpGateway, stopHttpGateways } from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const SERVER_CANARY = 'server-canary-5f1c9a';
const TENANT_CANARY = 'tenant-canary-"quoted"-77d2';

describe('child stderr', () => {
  it('is logged with the values of the env the gateway passed redacted, and the basics left readable', async () => {
    const log = capturedLog();
    const acme = newApiKey();
    const http = await startHttpGateway(
      {
        servers: {
          fixture: fixtureServer({
            mode: 'tenant',
            env: { FIXTURE_PRINT_ENV: '1', UPSTREAM_TOKEN: SERVER_CANARY, SHORT: 'abc' },
          }),
        },
        tenants: {
          acme: {
            name: 'Acme',
            apiKeys: [acme.entry],
            overrides: { fixture: { env: { TENANT_SECRET: TENANT_CANARY } } },
          },
        },
      },
      { log: log.log },
    );
    // The tenant pool starts on the tenant's first session.
    const { client } = await connectHttpClient(http, bearer(acme.key));
    await client.listTools();
    await eventually(() => log.text().includes('TENANT_SECRET='), 10_000);

    const stderr = log
      .lines()
      .filter((line) => line.stream === 'stderr')
      .map((line) => line.msg ?? '');
    const printed = stderr.join('\n');
    expect(printed).toContain('UPSTREAM_TOKEN=[redacted]');
    expect(printed).toContain('TENANT_SECRET=[redacted]');
    expect(printed).toContain('"UPSTREAM_TOKEN":"[redacted]"');
    expect(printed).toContain('"TENANT_SECRET":"[redacted]"');
    // Too short to be worth hiding, and not a secret the gateway chose: left as they are.
    expect(printed).toContain('SHORT=abc');
    // PATH as the shape scrubber alone leaves it: a random-looking directory name in it (a
    // mktemp checkout, say) is a high-entropy token to the detector, and nothing else removes it.
    expect(printed).toContain(secretScrubber()(`PATH=${process.env.PATH ?? ''}`));
    expect(printed).toMatch(/^PATH=.*\/bin/m);

    const everything = log.text();
    expect(everything).not.toContain(SERVER_CANARY);
    expect(everything).not.toContain('tenant-canary');
  });
});
