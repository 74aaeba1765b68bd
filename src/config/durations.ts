/** Durations and byte sizes as people write them in YAML: a number, or `30s`, `5m`, `4mb`. */
import { z } from 'zod';

const UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** A duration: a number of milliseconds, or a string such as `500ms`, `30s`, `5m`, `1h`. */
export const Duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(ms|s|m|h)$/, 'expected a duration such as 500ms, 30s, 5m or 1h'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+)(ms|s|m|h)$/.exec(value);
    // The regex above already matched, so `match` is set.
    const [, amount, unit] = match as RegExpExecArray;
    return Number(amount) * UNITS_MS[unit as keyof typeof UNITS_MS];
  })
  .meta({ description: 'Milliseconds, or a string such as 500ms, 30s, 5m, 1h.' });

/** A byte size: a number of bytes, or a string such as `512kb`, `4mb`. */
export const ByteSize = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 65536, 512kb or 4mb'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+)(b|kb|mb)$/i.exec(value) as RegExpExecArray;
    const unit = (match[2] as string).toLowerCase();
    const factor = unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1;
    return Number(match[1]) * factor;
  })
  .meta({ description: 'Bytes, or a string such as 512kb, 4mb.' });
