/**
 * The call line is written without pino's `redact` (it costs ~65 µs a line with the gateway's
 * wildcard paths), which is safe only while none of its keys is one that redaction would censor.
 */
import { describe, expect, it } from 'vitest';
import { newCall } from '../../src/guard/pipeline.ts';
import { SECRET_FIELDS } from '../../src/log.ts';
import { callLogFields } from '../../src/telemetry/call-log.ts';

describe('the call log line', () => {
  it('carries no key that redaction would censor, however much the call noted', () => {
    const call = newCall({
      id: 'r'.repeat(100),
      method: 'tools/call',
      params: { name: 'fs__read', arguments: { path: '/etc/shadow', authorization: 'Bearer canary' } },
      session: { key: 's', principal: { tenantId: 'acme', subject: 'key:k1' } as never, face: 'stdio' },
      signal: new AbortController().signal,
    });
    call.target = { server: 'fs', tool: 'read' };
    call.notes.upstreamMs = 1.5;
    call.notes.poolWaitMs = 0.25;
    call.notes.cpuMs = 3;
    call.notes.decision = { effect: 'deny', rule: 'no-shadow', mode: 'enforce' };
    call.notes.findings.push({ detector: 'secrets', action: 'redact', where: 'args.authorization' });
    const fields = callLogFields(call, 'client-error', 2.5, {
      traceId: 't'.repeat(32),
      spanId: 's'.repeat(16),
    });
    const secret = new Set(SECRET_FIELDS.map((field) => field.toLowerCase()));
    expect(Object.keys(fields).filter((key) => secret.has(key.toLowerCase()))).toEqual([]);
    expect(JSON.stringify(fields)).not.toContain('canary');
    expect(JSON.stringify(fields)).not.toContain('/etc/shadow');
  });
});
