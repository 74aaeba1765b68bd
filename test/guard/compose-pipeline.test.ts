import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { composePipeline, newCall, type Call, type Reply, type Stage } from '../../src/guard/pipeline.ts';
import { localPrincipal } from '../../src/identity/principal.ts';

const OK: Reply = { result: { content: [] } };
const session = { key: 's1', principal: localPrincipal('acme'), face: 'stdio' as const };

function call(): Call {
  return newCall({ id: 1, method: 'tools/call', params: {}, session, signal: new AbortController().signal });
}

function stage(handle: Stage['handle']): Stage {
  return { name: 'test', handle };
}

describe('the composed pipeline', () => {
  it('runs the stages in order around the terminal, each seeing the reply of the next', async () => {
    const seen: string[] = [];
    const named = (name: string): Stage =>
      stage(async (c, next) => {
        seen.push(`${name} in`);
        const reply = await next(c);
        seen.push(`${name} out`);
        return reply;
      });
    const run = composePipeline([named('a'), named('b')], async () => (seen.push('terminal'), OK));
    await expect(run(call())).resolves.toBe(OK);
    expect(seen).toEqual(['a in', 'b in', 'terminal', 'b out', 'a out']);
  });

  it('a gateway error a stage rejects with, or throws before returning a promise, becomes a refusal', async () => {
    const rejecting = stage(async () => {
      throw new GatewayError('FORBIDDEN', 'no');
    });
    const throwing = stage(() => {
      throw new GatewayError('RATE_LIMITED', 'slow down');
    });
    for (const [failing, code] of [
      [rejecting, 'FORBIDDEN'],
      [throwing, 'RATE_LIMITED'],
    ] as const) {
      const reply = await composePipeline([failing], async () => OK)(call());
      expect(reply).toMatchObject({ error: { data: { code } } });
    }
  });

  it('any other error passes through the stage, rejected or thrown', async () => {
    const bug = new Error('a bug');
    const rejecting = stage(async () => {
      throw bug;
    });
    const throwing = stage(() => {
      throw bug;
    });
    for (const failing of [rejecting, throwing]) {
      await expect(composePipeline([failing], async () => OK)(call())).rejects.toBe(bug);
    }
  });
});
