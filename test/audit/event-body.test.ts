import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditChain, recordHash } from '../../src/audit/audit-chain.ts';
import type { AuditEvent } from '../../src/audit/audit-record.ts';
import { DIGEST_ONLY, eventBody, type ArgsPolicy } from '../../src/audit/event-fields.ts';
import { canonicalHash, canonicalJson } from '../../src/jsonrpc/canonical-json.ts';

const text = fc.string({ maxLength: 12 });
const json = fc.jsonValue({ maxDepth: 3 });
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const finding = fc.record(
  {
    detector: text,
    action: fc.constantFrom('block' as const, 'redact' as const, 'flag' as const),
    where: text,
    detail: text,
  },
  { requiredKeys: ['detector', 'action', 'where'] },
);

const auditEvent: fc.Arbitrary<AuditEvent> = fc.record(
  {
    kind: fc.constantFrom('tool-call' as const, 'list' as const, 'admin-change' as const),
    tenant: text,
    project: text,
    principal: text,
    session: text,
    face: fc.constantFrom('stdio' as const, 'admin-api' as const),
    method: text,
    server: text,
    serverOwner: text,
    tool: text,
    prompt: text,
    uri: text,
    resource: text,
    decision: fc.record(
      {
        effect: fc.constantFrom('allow' as const, 'deny' as const),
        rule: text,
        mode: fc.constantFrom('enforce' as const, 'dry-run' as const),
        wouldDeny: fc.constant(true as const),
        reason: text,
      },
      { requiredKeys: ['effect', 'rule', 'mode'] },
    ),
    findings: fc.array(finding, { maxLength: 3 }),
    args: json,
    outcome: fc.constantFrom('ok' as const, 'upstream-error' as const, 'FORBIDDEN' as const),
    latencyMs: fc.double({ noNaN: true, noDefaultInfinity: true }),
    upstreamMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    servedBy: fc.constantFrom('primary' as const, 'fallback' as const),
    traceId: text,
  },
  { requiredKeys: ['kind', 'tenant', 'principal', 'face', 'method', 'outcome'] },
);

const keep: ArgsPolicy = { keep: true, redact: (args) => args };

describe('the event body', () => {
  it('is its own canonical JSON, so the verifier rehashes it to the same hash', () => {
    fc.assert(
      fc.property(
        auditEvent,
        fc.boolean(),
        optional(fc.integer({ min: 1, max: 1e9 })),
        (event, keepArgs, seq) => {
          const chain = new AuditChain(seq ?? 0);
          const { line, record } = chain.sealOrdered(
            eventBody(event, 1_764_000_000_000, keepArgs ? keep : DIGEST_ONLY),
          );
          const parsed = JSON.parse(line) as Record<string, unknown>;
          const { hash, ...body } = parsed;
          expect(line).toBe(`${canonicalJson(body).slice(0, -1)},"hash":"${hash as string}"}`);
          expect(recordHash(parsed)).toBe(record.hash);
          if (event.args !== undefined) expect(parsed.argsDigest).toBe(canonicalHash(event.args));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every field of the event', () => {
    const event: Required<AuditEvent> = {
      kind: 'tool-call',
      at: 0,
      tenant: 't',
      project: 'p',
      principal: 'k',
      session: 's',
      face: 'stdio',
      method: 'tools/call',
      server: 'srv',
      serverOwner: 'owner',
      tool: 'tool',
      prompt: 'prompt',
      uri: 'uri',
      resource: 'res',
      decision: { effect: 'deny', rule: 'r', mode: 'dry-run', wouldDeny: true, reason: 'why' },
      findings: [{ detector: 'd', action: 'flag', where: 'w', detail: 'x' }],
      args: { b: 1, a: 2 },
      outcome: 'ok',
      latencyMs: 1,
      upstreamMs: 2,
      servedBy: 'stale',
      traceId: 'tr',
    };
    const { record } = new AuditChain().sealOrdered(eventBody(event, 0, keep));
    const { at: _at, ...written } = event;
    expect(record).toEqual({
      ...written,
      args: { a: 2, b: 1 },
      argsDigest: canonicalHash(event.args),
      time: '1970-01-01T00:00:00.000Z',
      seq: 1,
      prevHash: '0'.repeat(64),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
  });
});
