import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.ts';

describe('the error registry', () => {
  it("gives every one of the gateway's own failures a JSON-RPC code of its own", () => {
    const owners = new Map<number, string[]>();
    for (const [name, spec] of Object.entries(ERROR_CODES)) {
      // -32000..-32099 are the implementation-defined codes (JSON-RPC 2.0 §5.1), the gateway's own.
      if (spec.rpc > -32000 || spec.rpc < -32099) continue;
      owners.set(spec.rpc, [...(owners.get(spec.rpc) ?? []), name]);
    }
    // MCP gives -32002 one meaning, resource not found; an uninitialized session shares it by choice.
    const shared = [...owners].filter(([code, names]) => names.length > 1 && code !== -32002);
    expect(shared).toEqual([]);
    // Codes MCP itself defines must keep their meaning: -32042 is "URL elicitation required".
    expect(owners.has(-32042)).toBe(false);
  });
});
