/** The gateway's check of a client message agrees with the SDK's schema, and says why it refuses. */
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkClientMessage } from '../../src/jsonrpc/client-message.ts';

const id = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1.5, null, true),
);
const meta = fc.oneof(
  fc.record({ progressToken: id }, { requiredKeys: [] }),
  fc.constantFrom(5, 'x', null, [], { 'io.modelcontextprotocol/related-task': { taskId: 1 } }),
);
const params = fc.oneof(
  fc.record({ _meta: meta, name: fc.string({ maxLength: 3 }) }, { requiredKeys: [] }),
  fc.constantFrom([1], 'x', null, 3),
);
const error = fc.oneof(
  fc.record({ code: id, message: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(1)) }),
  fc.constantFrom(null, 'x', []),
);
/** Message-like objects: every member optional, some of them of the wrong type. */
const candidate = fc.record(
  {
    jsonrpc: fc.constantFrom('2.0', '1.0', 2),
    id,
    method: fc.oneof(fc.constantFrom('ping', 'tools/call'), fc.integer()),
    params,
    result: fc.oneof(fc.record({ _meta: meta }, { requiredKeys: [] }), fc.constantFrom([], null, 'x')),
    error,
    extra: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe('checkClientMessage', () => {
  it('accepts exactly what the SDK transports accept', () => {
    fc.assert(
      fc.property(candidate, (value) => {
        const refused = checkClientMessage(value) !== undefined;
        expect(refused).toBe(!JSONRPCMessageSchema.safeParse(value).success);
      }),
      { numRuns: 3_000 },
    );
  });

  it('says why without naming the input', () => {
    expect(checkClientMessage({ jsonrpc: '2.0', id: 1, method: 'x', params: [1] })).toEqual({
      reason: 'params must be an object',
      params: true,
    });
    expect(checkClientMessage({ jsonrpc: '2.0', id: 2 ** 53 + 2, method: 'x' })?.reason).toMatch(/integer/);
    expect(
      checkClientMessage({ jsonrpc: '2.0', id: 1, method: 'x', secret_member: 1 })?.reason,
    ).not.toContain('secret_member');
    expect(
      checkClientMessage({ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } })?.reason,
    ).toBe('a response has either result or error, not both');
    expect(checkClientMessage({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBeUndefined();
  });
});
