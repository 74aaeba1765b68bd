/** Keys that only look like the gateway's own `_meta` keys are treated as the gateway's. */
import { describe, expect, it } from 'vitest';
import { hasGatewayKeys, isGatewayMetaKey, withoutGatewayKeys } from '../../src/jsonrpc/gateway-meta-key.ts';

const PREFIX = 'dev.mcplane';

describe('gateway _meta keys', () => {
  it.each([
    'dev.mcplane/tenant',
    'DEV.MCPLANE/tenant',
    'Dev.McPlane/session',
    ' dev.mcplane/tenant',
    'dev.mcplane /tenant',
    '\tdev.mcplane\n/principal',
    'dev.mcplane\u200b/tenant',
    'dev.\u200cmcplane/tenant',
    'dev.mc\u200dplane/tenant',
    'dev.mcplane\u2060/tenant',
    '\ufeffdev.mcplane/tenant',
    'dev.mc\u00adplane/tenant',
    '\u202edev.mcplane/tenant',
    'ｄｅｖ．ｍｃｐｌａｎｅ/tenant',
    'dev.mcplane/',
  ])('%j is one of the gateway keys', (key) => {
    expect(isGatewayMetaKey(key, PREFIX)).toBe(true);
  });

  it.each([
    'com.example/tenant',
    'dev.mcplane.evil/tenant',
    'xdev.mcplane/tenant',
    'dev.mcplane',
    'progressToken',
    'tenant',
  ])('%j is not', (key) => {
    expect(isGatewayMetaKey(key, PREFIX)).toBe(false);
  });

  it('withoutGatewayKeys keeps the other keys, and a __proto__ key stays plain data', () => {
    const meta = JSON.parse(
      '{"progressToken":1,"DEV.mcplane/tenant":"x","com.example/a":2,"__proto__":{"polluted":true}}',
    ) as Record<string, unknown>;
    const kept = withoutGatewayKeys(meta, PREFIX);
    expect(Object.keys(kept).sort()).toEqual(['__proto__', 'com.example/a', 'progressToken']);
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    expect((kept as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('hasGatewayKeys', () => {
  it('is true for a gateway key or a lookalike among others, and false for plain client keys', () => {
    expect(hasGatewayKeys({ progressToken: 1, 'DEV.mcplane/tenant': 'x' }, 'dev.mcplane')).toBe(true);
    expect(hasGatewayKeys({ 'dev.mcplane\u200b/session': 'x' }, 'dev.mcplane')).toBe(true);
    expect(hasGatewayKeys({ progressToken: 1, traceparent: 't', 'com.example/a': 2 }, 'dev.mcplane')).toBe(
      false,
    );
  });
});
