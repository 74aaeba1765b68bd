/**
 * The CEL fast path (src/guard/policy/cel-fast-path.ts) against the library it stands in front
 * of: on generated conditions and inputs, whatever the fast path decides, the library decides
 * the same, and where the library errs the fast path gives up rather than decide.
 */
import { describe, expect, it } from 'vitest';
import { celConditionEngine, celConditionParts } from '../../../src/guard/policy/cel-condition.ts';
import { ConditionFailure } from '../../../src/guard/policy/condition.ts';
import { FAST_PATH_GAVE_UP } from '../../../src/guard/policy/cel-fast-path.ts';
import type { PolicyInput } from '../../../src/guard/policy/policy-input.ts';
import { input } from './policy-fixture.ts';

/** mulberry32: the same conditions and inputs on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'string' | 'int' | 'double' | 'bool';
const KINDS: readonly Kind[] = ['string', 'int', 'double', 'bool'];

/** Random CEL conditions, mostly well-typed, sometimes not (a random kind where one is expected). */
function generator(next: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const kindFor = (wanted: Kind): Kind => (next() < 0.12 ? pick(KINDS) : wanted);

  const leaves: Record<Kind, readonly string[]> = {
    string: [
      'args.s',
      'args.u',
      "args['s']",
      'args.obj.k',
      'args.missing',
      'tenant.id',
      'principal.role',
      'tool',
      'server',
      "''",
      "'a'",
      "'acme'",
      "'/data/'",
      "'😀'",
      "'é'",
    ],
    int: [
      'usage.callsLastMinute',
      'usage.callsLastHour',
      '0',
      '1',
      '100',
      '-5',
      '9223372036854775807',
      'request.time.getHours()',
      'request.time.getDayOfWeek()',
      'request.time.getMonth()',
      'request.time.getFullYear()',
      'size(args.list)',
      'args.list[0]',
    ],
    double: ['anomaly.score', 'args.n', '0.5', '1.0', '-0.0', '0.8'],
    bool: ['true', 'false', 'args.b', 'has(args.s)', 'has(args.missing)', 'has(args.obj.k)'],
  };

  function term(kind: Kind, depth: number): string {
    if (depth <= 0 || next() < 0.3) return pick(leaves[kind]);
    const sub = (wanted: Kind) => term(kindFor(wanted), depth - 1);
    switch (kind) {
      case 'string':
        return `(${sub('string')} + ${sub('string')})`;
      case 'int':
        return pick([
          () => `(${sub('int')} + ${sub('int')})`,
          () => `(${sub('int')} - ${sub('int')})`,
          () => `(${sub('int')} * ${sub('int')})`,
          () => `-${sub('int')}`,
          () => `size(${sub('string')})`,
          () => `${sub('string')}.size()`,
        ])();
      case 'double':
        return pick([
          () => `(${sub('double')} + ${sub('double')})`,
          () => `(${sub('double')} * ${sub('double')})`,
        ])();
      case 'bool': {
        const operand = pick(['string', 'int', 'double'] as const);
        return pick([
          () => `(${sub(operand)} ${pick(['==', '!=', '<', '<=', '>', '>='])} ${sub(operand)})`,
          () => `${sub('string')}.${pick(['startsWith', 'endsWith', 'contains'])}(${sub('string')})`,
          () => `(${sub('string')} in ['a', 'acme', 'reader'])`,
          () => `(${sub('string')} in args)`,
          () => `(${sub('int')} in [1, 5, 100])`,
          () => `!${sub('bool')}`,
          () => `(${sub('bool')} && ${sub('bool')})`,
          () => `(${sub('bool')} || ${sub('bool')})`,
          () => `(${sub('bool')} ? ${sub('bool')} : ${sub('bool')})`,
        ])();
      }
    }
  }
  return { condition: () => term('bool', 4) };
}

/** Random inputs: arguments present, absent or of another type; counts up to int64's edge. */
function inputs(next: () => number, count: number): PolicyInput[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const maybe = (value: unknown): unknown => (next() < 0.8 ? value : undefined);
  return Array.from({ length: count }, () => {
    const args = Object.fromEntries(
      Object.entries({
        s: maybe(pick(['acme', '/data/acme/x', '', 'a', 3])),
        u: maybe(pick(['😀é', 'é', 'e\u0301'])),
        n: maybe(pick([0.5, 3, -1.25, 1e308])),
        b: maybe(pick([true, false, 'true'])),
        list: maybe(pick([['a', 'b'], [], [1, 'a'], [5, 100]])),
        obj: maybe(pick([{ k: 'v' }, {}, { k: 7 }])),
      }).filter(([, value]) => value !== undefined),
    );
    return input({
      args,
      principal: { subject: 'key:acme-1', role: pick(['reader', 'admin', '']), via: 'api-key', scopes: [] },
      tool: pick(['read_file', 'a', '😀']),
      usage: { callsLastMinute: pick([0, 5, 100, 2 ** 62]), callsLastHour: pick([0, 120, 2 ** 62]) },
      anomaly: { score: pick([0, 0.1, 0.8, 0.99]) },
      request: {
        time: new Date(Date.UTC(2026, pick([0, 5, 11]), pick([1, 15]), pick([0, 9, 23]))),
        face: 'stdio',
      },
    });
  });
}

describe('the CEL fast path', () => {
  it('decides as the library does, on 2,500 generated conditions over 8 inputs each', () => {
    const next = random(20261204);
    const { condition } = generator(next);
    const cases = inputs(next, 8);
    const engine = celConditionEngine();
    const bound = cases.map((each) => engine.bind(each));
    const tally = { conditions: 0, uncompiled: 0, decided: 0, gaveUp: 0, libraryErrors: 0 };
    const mismatches: string[] = [];
    for (let made = 0; made < 2_500; made++) {
      const source = condition();
      let parts: ReturnType<typeof celConditionParts>;
      try {
        parts = celConditionParts(source);
      } catch {
        continue; // refused by the library's type check, as it would be at load
      }
      tally.conditions++;
      if (parts.fast === undefined) tally.uncompiled++;
      for (const bindings of bound) {
        let library: unknown;
        try {
          library = parts.library(bindings);
        } catch {
          library = 'error';
          tally.libraryErrors++;
        }
        const fast = parts.fast?.(bindings);
        if (fast === undefined) continue;
        if (fast === FAST_PATH_GAVE_UP) {
          tally.gaveUp++;
          continue;
        }
        tally.decided++;
        if (fast !== library) mismatches.push(`${source}: fast ${String(fast)}, library ${String(library)}`);
      }
    }
    expect(mismatches).toEqual([]);
    // The comparison is not vacuous: most type-checked conditions are compiled, the fast path
    // decides most evaluations, and it gives up on (at least) every one the library errs on.
    expect(tally.conditions).toBeGreaterThan(1_000);
    expect(tally.uncompiled).toBeLessThan(tally.conditions * 0.2);
    expect(tally.decided).toBeGreaterThan(tally.conditions * 8 * 0.4);
    expect(tally.gaveUp).toBeGreaterThanOrEqual(tally.libraryErrors - tally.uncompiled * 8);
    expect(tally.libraryErrors).toBeGreaterThan(500);
  });

  it('leaves errors, and errors that && and || absorb, to the library', () => {
    const fastEngine = celConditionEngine();
    const libraryEngine = celConditionEngine({ fastPath: false });
    const facts = input({ args: { s: 'acme', n: 3 }, usage: { callsLastMinute: 2 ** 62, callsLastHour: 0 } });
    const cases: [string, boolean | 'failure'][] = [
      ['args.missing == "x" || true', true],
      ['true || args.missing == "x"', true],
      ['args.missing == "x" && false', false],
      ['args.missing == "x"', 'failure'],
      ['usage.callsLastMinute * 4 > 0', 'failure'], // int64 overflow
      ['usage.callsLastMinute + usage.callsLastMinute > 0', 'failure'], // 2^62 + 2^62
      ['usage.callsLastHour + usage.callsLastMinute > 0', true],
      ['args.n > 2', true], // a double against an int: the library's mixed comparison
      ['args.s > 2', 'failure'],
      ["args.s.startsWith('ac')", true],
      ["request.time.getHours('Asia/Tokyo') == 19", true], // a timezone: not compiled
      ["size('e\u0301😀') == 3", true], // code points, not UTF-16 units
      ["'\uffff' < '😀'", false], // code units compared as the library does
    ];
    for (const [source, expected] of cases) {
      const [fast, library] = [fastEngine, libraryEngine].map((engine) => {
        const compiled = engine.compile(source);
        if ('problem' in compiled) throw new Error(`${source}: ${compiled.problem}`);
        return compiled.evaluate(engine.bind(facts));
      });
      expect(fast, source).toEqual(library);
      if (expected === 'failure') expect(fast, source).toBeInstanceOf(ConditionFailure);
      else expect(fast, source).toBe(expected);
    }
  });

  it('decides a comparison with a literal (on either side) as the library does, below, at and above it, and gives up on another type', () => {
    // callsLastMinute 5, anomaly.score 0.5, tenant.id 'acme' (below 'b', above 'a').
    const facts = celConditionEngine().bind(
      input({
        args: { s: 'acme', n: 0.5 },
        usage: { callsLastMinute: 5, callsLastHour: 0 },
        anomaly: { score: 0.5 },
      }),
    );
    const operands: [string, string[]][] = [
      ['usage.callsLastMinute', ['4', '5', '6']],
      ['anomaly.score', ['0.25', '0.5', '0.75']],
      ['tenant.id', ["'a'", "'acme'", "'b'"]],
      ['args.s', ["'a'", "'acme'", "'b'"]],
    ];
    // `args` is dyn, so the checker admits these; its values are a string and a double.
    const otherTypes = ['args.s OP 1', "args.n OP '0.5'", 'args.n OP 1'];
    let decided = 0;
    for (const op of ['==', '!=', '<', '<=', '>', '>=']) {
      for (const [field, literals] of operands) {
        for (const literal of literals) {
          for (const source of [`${field} ${op} ${literal}`, `${literal} ${op} ${field}`]) {
            const { fast, library } = celConditionParts(source);
            expect(fast?.(facts), source).toBe(library(facts));
            decided++;
          }
        }
      }
      for (const shape of otherTypes) {
        const [left, right] = shape.split(' OP ') as [string, string];
        for (const source of [`${left} ${op} ${right}`, `${right} ${op} ${left}`])
          expect(celConditionParts(source).fast?.(facts), source).toBe(FAST_PATH_GAVE_UP);
      }
    }
    expect(decided).toBe(144);
  });

  it('compiles the conditions policies are made of, and leaves the rest to the library', () => {
    const compiled = [
      "!args.path.startsWith('/data/' + tenant.id)",
      'request.time.getHours() < 6 || request.time.getHours() >= 22',
      'usage.callsLastMinute >= 100 && anomaly.score < 0.8',
      "principal.role in ['admin', 'owner'] && has(args.path)",
      "tool == 'delete' ? principal.role == 'admin' : true",
    ];
    const left = [
      "principal.scopes.exists(s, s == 'tools:call')",
      "args.path.matches('^/data/')",
      'args.n / 2 > 1',
    ];
    for (const source of compiled) expect(celConditionParts(source).fast, source).toBeTypeOf('function');
    for (const source of left) expect(celConditionParts(source).fast, source).toBeUndefined();
  });
});
