/**
 * The call line writer (src/telemetry/call-log.ts) against pino itself: for the same fields,
 * logger and level, the same line, byte for byte once the time is set aside, on the gateway's
 * own logger settings and on loggers whose options the writer's layout does not cover (where it
 * must hand the line to pino).
 */
import { Writable } from 'node:stream';
import { pino, type LoggerOptions } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, type Logger } from '../../src/log.ts';
import { CallLineWriter } from '../../src/telemetry/call-log.ts';

function capture(): { stream: Writable; lines(): string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

/** The time is the one part two lines written apart may differ in. */
const timeless = (line: string): string => line.replace(/"time":\d+/, '"time":0');

const FIELDS: Record<string, unknown>[] = [
  {
    requestId: 7,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    session: 's-1',
    tenant: 'acme',
    principal: 'key:abcd',
    face: 'streamable-http',
    method: 'tools/call',
    server: 'fx',
    tool: 'echo',
    outcome: 'ok',
    latencyMs: 0.532,
    upstreamMs: 0.301,
  },
  // A client's request id is the client's text: quotes, backslashes, control characters, emoji.
  {
    requestId: 'a "quoted" \\ back\nslash\u0001 😀 é',
    session: 's-2',
    tenant: 't',
    principal: 'jwt:x',
    face: 'stdio',
    method: 'prompts/get',
    outcome: 'POLICY_DENIED',
    latencyMs: 12,
    deniedBy: 'rule-1',
    policyMode: 'enforce',
    findings: ['secrets', 'hidden-characters'],
  },
  { requestId: 'x'.repeat(200), outcome: 'ok', latencyMs: 0, skipped: undefined, cpuMs: 1.5e-7 },
];

/** Lines from the writer and from pino, and how many of the writer's went through pino's own method. */
function pair(
  options: LoggerOptions,
  bindings: Record<string, unknown> = {},
  level: 'info' | 'debug' = 'info',
): { ours: string[]; theirs: string[]; viaPino: number } {
  const [ours, theirs] = [capture(), capture()];
  const log = (stream: Writable): Logger => pino(options, stream).child(bindings, { redact: [] });
  const mine = log(ours.stream);
  let viaPino = 0;
  const own = mine[level].bind(mine);
  mine[level] = (...args: Parameters<typeof own>) => {
    viaPino++;
    own(...args);
  };
  const writer = new CallLineWriter(mine, level);
  const reference = log(theirs.stream);
  for (const fields of FIELDS) {
    writer.write(fields);
    reference[level](fields, 'call');
  }
  return { ours: ours.lines(), theirs: theirs.lines(), viaPino };
}

describe('call lines', () => {
  it("are pino's own lines, on the gateway's logger settings, with and without bindings", async () => {
    for (const bindings of [{}, { component: 'calls', session: 'a"b' }]) {
      const { ours, theirs, viaPino } = pair(loggerOptions(), bindings);
      expect(ours).toHaveLength(FIELDS.length);
      expect(viaPino).toBe(0);
      expect(ours.map(timeless)).toEqual(theirs.map(timeless));
      for (const line of ours) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });

  it("carry bindings set on the logger after the writer was made, as pino's do", () => {
    const [ours, theirs] = [capture(), capture()];
    const mine = pino(loggerOptions(), ours.stream).child({}, { redact: [] });
    const reference = pino(loggerOptions(), theirs.stream).child({}, { redact: [] });
    const writer = new CallLineWriter(mine, 'info');
    for (const log of [mine, reference]) log.setBindings({ component: 'later' });
    writer.write(FIELDS[0] as Record<string, unknown>);
    reference.info(FIELDS[0], 'call');
    expect(ours.lines().map(timeless)).toEqual(theirs.lines().map(timeless));
    expect(JSON.parse(ours.lines()[0] as string)).toMatchObject({ component: 'later', msg: 'call' });
  });

  it('keep to the level: none below it, and debug lines when the logger is at debug', () => {
    expect(pair(loggerOptions({ level: 'info' }), {}, 'debug').ours).toEqual([]);
    const { ours, theirs } = pair(loggerOptions({ level: 'debug' }), {}, 'debug');
    expect(ours).toHaveLength(FIELDS.length);
    expect(ours.map(timeless)).toEqual(theirs.map(timeless));
    expect(JSON.parse(ours[0] as string)).toMatchObject({ level: 20, msg: 'call' });
  });

  it('follow options the layout covers (message key, time format, level labels, a message prefix)', () => {
    const variants: LoggerOptions[] = [
      { ...loggerOptions(), messageKey: 'message' },
      { ...loggerOptions(), timestamp: pino.stdTimeFunctions.isoTime },
      { ...loggerOptions(), timestamp: false },
      { ...loggerOptions(), formatters: { level: (label) => ({ severity: label.toUpperCase() }) } },
      { ...loggerOptions(), msgPrefix: '[gw] ' },
    ];
    for (const options of variants) {
      const { ours, theirs, viaPino } = pair(options);
      expect(viaPino).toBe(0);
      expect(ours.map(timeless)).toEqual(theirs.map(timeless));
    }
  });

  it("are pino's to write when the logger has options the layout does not cover", () => {
    const variants: LoggerOptions[] = [
      { ...loggerOptions(), mixin: () => ({ extra: 1 }) },
      { ...loggerOptions(), nestedKey: 'payload' },
      { ...loggerOptions(), serializers: { tenant: (tenant: string) => tenant.toUpperCase() } },
      { ...loggerOptions(), formatters: { log: (object) => ({ ...object, formatted: true }) } },
      {
        ...loggerOptions(),
        hooks: {
          logMethod(args, method) {
            method.apply(this, args);
          },
        },
      },
    ];
    for (const options of variants) {
      const { ours, theirs, viaPino } = pair(options);
      expect(ours).toHaveLength(FIELDS.length);
      expect(viaPino).toBe(FIELDS.length);
      expect(ours.map(timeless)).toEqual(theirs.map(timeless));
    }
  });
});
