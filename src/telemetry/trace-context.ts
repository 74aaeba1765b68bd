/**
 * W3C trace context in MCP's `params._meta` (the OpenTelemetry MCP semantic conventions put
 * `traceparent`, `tracestate` and `baggage` there). The client's context is read from the
 * request's `_meta` (the HTTP faces copy a `traceparent` header there when `_meta` has none, see
 * ingress/trace-header.ts); the gateway's upstream span is written into the `_meta` of the
 * request to the child, so the server's own spans join the same trace.
 *
 * The global propagator does the parsing (W3C tracecontext and baggage unless OTEL_PROPAGATORS
 * says otherwise); a malformed value is ignored and the call starts a trace of its own.
 */
import {
  propagation,
  ROOT_CONTEXT,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

type Meta = Record<string, unknown>;

const getter: TextMapGetter<Meta> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = Object.hasOwn(carrier, key) ? carrier[key] : undefined;
    return typeof value === 'string' ? value : undefined;
  },
};

const setter: TextMapSetter<Meta> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

function metaOf(params: Record<string, unknown>): Meta | undefined {
  const meta = params._meta;
  return meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Meta) : undefined;
}

/** The client's trace context from a request's params, or the root context when it sent none. */
export function extractFromMeta(params: Record<string, unknown>): Context {
  const meta = metaOf(params);
  return meta === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, meta, getter);
}

/** The params with `context` written into a copy of their `_meta` (the client's keys kept). */
export function injectIntoMeta(params: Record<string, unknown>, context: Context): Record<string, unknown> {
  const meta: Meta = { ...metaOf(params) };
  propagation.inject(context, meta, setter);
  return { ...params, _meta: meta };
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The trace id of a well-formed `_meta.traceparent`, for logs when tracing is off. */
export function traceIdFromMeta(params: Record<string, unknown>): string | undefined {
  const value = metaOf(params)?.traceparent;
  if (typeof value !== 'string') return undefined;
  const id = TRACEPARENT.exec(value.trim())?.[1];
  return id === undefined || /^0+$/.test(id) ? undefined : id;
}
