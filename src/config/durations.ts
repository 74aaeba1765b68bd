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
    z.string().regex(/^\d+(b|kb|mb|gb)$/i, 'expected a size such as 65536, 512kb, 4mb or 2gb'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+)(b|kb|mb|gb)$/i.exec(value) as RegExpExecArray;
    const unit = (match[2] as string).toLowerCase() as 'b' | 'kb' | 'mb' | 'gb';
    const factor = { b: 1, kb: 1024, mb: 1024 * 1024, gb: 1024 * 1024 * 1024 }[unit];
    return Number(match[1]) * factor;
  })
  .meta({ description: 'Bytes, or a string such as 512kb, 4mb, 2gb.' });

const UNITS_WITH_DAYS_MS = { ...UNITS_MS, d: 86_400_000 } as const;
/** About a hundred years: past it, `now - period` leaves the range of a Date. */
const MAX_PERIOD_MS = 36_500 * 86_400_000;

/**
 * A length of time that may run into days (`30d`, `365d`), for ages such as retention. Not for a
 * timer's delay: Node's timers fire at once past 2^31-1 ms (about 24.8 days).
 */
export const Period = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(ms|s|m|h|d)$/, 'expected a period such as 12h, 30d or 365d'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value) as RegExpExecArray;
    return Number(amount) * UNITS_WITH_DAYS_MS[unit as keyof typeof UNITS_WITH_DAYS_MS];
  })
  .refine((ms) => ms > 0 && ms <= MAX_PERIOD_MS, 'expected a period between 1ms and 36500d')
  .meta({ description: 'Milliseconds, or a string such as 12h, 30d, 365d.' });
