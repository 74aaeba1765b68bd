/**
 * The invariants the store keeps whatever its caller validated: ids, names, enums and times.
 * A violation is INVALID_PARAMS naming the field; the offending value is never echoed.
 */
import { GatewayError } from '../errors.ts';
import type { ConfigValue } from './records.ts';

/** The config's tenant and server name rule (src/config/schema.ts), so both sources agree. */
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** Key, project and grant ids: what `generateApiKey` and `randomUUID` produce, and similar. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function invalid(message: string): GatewayError {
  return new GatewayError('INVALID_PARAMS', message);
}

export function checkTenantId(id: string, field = 'tenant id'): void {
  if (!NAME.test(id))
    throw invalid(`${field} must be lowercase letters, digits and dashes, starting with a letter`);
}

export function checkServerName(name: string): void {
  if (!NAME.test(name))
    throw invalid('server name must be lowercase letters, digits and dashes, starting with a letter');
}

export function checkId(id: string, field: string): void {
  if (!ID.test(id)) throw invalid(`${field} must be 1-128 letters, digits, dashes or underscores`);
}

export function checkText(value: string, field: string, max = 200): void {
  if (value.trim() === '' || value.length > max) throw invalid(`${field} must be 1-${max} characters`);
}

export function checkOneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  field: string,
): asserts value is T {
  if (!(allowed as readonly string[]).includes(value))
    throw invalid(`${field} must be one of ${allowed.join(', ')}`);
}

/** An ISO 8601 time with an offset; returns it normalised to UTC with milliseconds. */
export function checkTime(value: string, field: string): string {
  const at = Date.parse(value);
  if (!ISO_TIME.test(value) || Number.isNaN(at))
    throw invalid(`${field} must be an ISO 8601 time with an offset`);
  return new Date(at).toISOString();
}

export function checkList(values: readonly string[], field: string): void {
  if (
    !Array.isArray(values) ||
    values.some((value) => typeof value !== 'string' || value === '' || /\s/.test(value))
  ) {
    throw invalid(`${field} must be a list of non-empty strings without spaces`);
  }
}

export function checkEnvName(name: string): void {
  if (!ENV_NAME.test(name)) throw invalid('env names must be letters, digits and underscores');
}

export function checkConfigValue(value: ConfigValue | null, field: string): void {
  if (value === null || typeof value === 'string') return;
  if (typeof value !== 'object' || typeof value.secret !== 'string' || Object.keys(value).length !== 1) {
    throw invalid(`${field} must be a string or { "secret": string }`);
  }
}

/** A page size within 1..max. */
export function checkPageLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw invalid(`limit must be 1-${max}`);
}
