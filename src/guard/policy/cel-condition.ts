/**
 * Policy conditions in CEL, on `@marcbachmann/cel-js` (measured against `@bufbuild/cel` on the
 * policy workload by `npm run bench:policy`; see docs/policy.md).
 *
 * Every variable is declared with its type, so a misspelt variable or field
 * (`principal.subjet`) and a condition that cannot be a bool are refused when the policies load,
 * not found at the first call. `args` is a `map<string, dyn>`: its keys are only known per call.
 * Counts are CEL `int`s, `anomaly.score` a `double`, `request.time` a `timestamp`.
 */
import { Environment, type ParseError, type TypeError } from '@marcbachmann/cel-js';
import { FAST_PATH_GAVE_UP, compileFastPath, type FactType } from './cel-fast-path.ts';
import {
  ConditionFailure,
  type Condition,
  type ConditionBindings,
  type ConditionEngine,
} from './condition.ts';

// Plain classes so the library reads fields as properties, without converting per evaluation.
class PrincipalFacts {
  readonly subject: string;
  readonly role: string;
  readonly via: string;
  readonly scopes: readonly string[];
  constructor(subject: string, role: string, via: string, scopes: readonly string[]) {
    this.subject = subject;
    this.role = role;
    this.via = via;
    this.scopes = scopes;
  }
}

class TenantFacts {
  readonly id: string;
  readonly tier: string;
  constructor(id: string, tier: string) {
    this.id = id;
    this.tier = tier;
  }
}

class RequestFacts {
  readonly time: Date;
  readonly face: string;
  constructor(time: Date, face: string) {
    this.time = time;
    this.face = face;
  }
}

class UsageFacts {
  readonly callsLastMinute: bigint;
  readonly callsLastHour: bigint;
  constructor(callsLastMinute: bigint, callsLastHour: bigint) {
    this.callsLastMinute = callsLastMinute;
    this.callsLastHour = callsLastHour;
  }
}

class AnomalyFacts {
  readonly score: number;
  constructor(score: number) {
    this.score = score;
  }
}

/** The variables bound to a fact type, whose declared fields the fast path reads as properties. */
const FACT_VARIABLES = new Map<string, FactType>([
  ['principal', PrincipalFacts],
  ['tenant', TenantFacts],
  ['request', RequestFacts],
  ['usage', UsageFacts],
  ['anomaly', AnomalyFacts],
]);

const TEXT_VARIABLES = ['project', 'server', 'method', 'tool', 'prompt', 'resource'] as const;

function environment(withArgs: boolean): Environment {
  const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
    .registerType('Principal', {
      ctor: PrincipalFacts,
      fields: { subject: 'string', role: 'string', via: 'string', scopes: 'list<string>' },
    })
    .registerType('Tenant', { ctor: TenantFacts, fields: { id: 'string', tier: 'string' } })
    .registerType('Request', {
      ctor: RequestFacts,
      fields: { time: 'google.protobuf.Timestamp', face: 'string' },
    })
    .registerType('Usage', { ctor: UsageFacts, fields: { callsLastMinute: 'int', callsLastHour: 'int' } })
    .registerType('Anomaly', { ctor: AnomalyFacts, fields: { score: 'double' } })
    .registerVariable('principal', 'Principal')
    .registerVariable('tenant', 'Tenant')
    .registerVariable('request', 'Request')
    .registerVariable('usage', 'Usage')
    .registerVariable('anomaly', 'Anomaly');
  for (const name of TEXT_VARIABLES) env.registerVariable(name, 'string');
  if (withArgs) env.registerVariable('args', 'map<string, dyn>');
  return env;
}

type Bindings = {
  principal: PrincipalFacts;
  tenant: TenantFacts;
  request: RequestFacts;
  usage: UsageFacts;
  anomaly: AnomalyFacts;
  args: Readonly<Record<string, unknown>>;
} & Record<(typeof TEXT_VARIABLES)[number], string>;

/**
 * The CEL engine policies use. Building it costs milliseconds: make one per process, not per load.
 * `fastPath: false` evaluates every condition with the library alone (for the benchmark and the
 * tests that compare the two; see cel-fast-path.ts).
 */
export function celConditionEngine(options: { readonly fastPath?: boolean } = {}): ConditionEngine {
  const useFastPath = options.fastPath ?? true;
  const full = environment(true);
  // The same variables without `args`: a condition that type-checks here does not read them.
  const withoutArgs = environment(false);
  return {
    name: useFastPath ? '@marcbachmann/cel-js' : '@marcbachmann/cel-js (no fast path)',
    compile(source) {
      let program: ReturnType<Environment['parse']>;
      try {
        program = full.parse(source);
      } catch (error) {
        return { problem: celProblem(error) };
      }
      const checked = program.check();
      if (!checked.valid) return { problem: celProblem(checked.error) };
      if (checked.type !== 'bool' && checked.type !== 'dyn') {
        return { problem: `a condition must yield a bool; this one yields ${checked.type ?? 'nothing'}` };
      }
      const readsArgs = !withoutArgs.check(source).valid;
      const fast = useFastPath ? compileFastPath(program.ast, FACT_VARIABLES) : undefined;
      return {
        source,
        readsArgs,
        evaluate(bindings) {
          if (fast !== undefined) {
            const decided = fast(bindings);
            if (decided !== FAST_PATH_GAVE_UP) return decided;
          }
          let value: unknown;
          try {
            value = program(bindings);
          } catch (error) {
            return new ConditionFailure(celProblem(error));
          }
          return typeof value === 'boolean'
            ? value
            : new ConditionFailure('the condition did not yield a bool');
        },
      } satisfies Condition;
    },
    bind(input) {
      const { principal, tenant, request, usage } = input;
      const bindings: Bindings = {
        principal: new PrincipalFacts(
          principal.subject,
          principal.role ?? '',
          principal.via,
          principal.scopes,
        ),
        tenant: new TenantFacts(tenant.id, tenant.tier),
        request: new RequestFacts(request.time, request.face),
        usage: new UsageFacts(integer(usage.callsLastMinute), integer(usage.callsLastHour)),
        anomaly: new AnomalyFacts(input.anomaly.score),
        args: input.args,
        project: input.project ?? '',
        server: input.server,
        method: input.method,
        tool: input.tool ?? '',
        prompt: input.prompt ?? '',
        resource: input.resource ?? '',
      };
      return bindings as unknown as ConditionBindings;
    },
  };
}

/** A CEL int. A count that is not a finite number is a caller's bug: it throws, and the call fails closed. */
function integer(count: number): bigint {
  return BigInt(Math.trunc(count));
}

/** The library's one-line summary and where in the condition it points, never the full source dump. */
function celProblem(error: unknown): string {
  const celError = error as Partial<ParseError | TypeError> | undefined;
  const summary = celError?.summary ?? (error instanceof Error ? error.message : String(error));
  const start = celError?.range?.start;
  return start === undefined ? summary : `${summary} (at character ${start + 1} of the condition)`;
}

/**
 * For tests: one condition's two evaluators apart, the library's program (which throws on an
 * error) and the fast path (undefined when the condition is outside its subset), so a test can
 * check that whatever the fast path decides, the library decides the same.
 */
export function celConditionParts(source: string): {
  readonly library: (bindings: ConditionBindings) => unknown;
  readonly fast: ((bindings: ConditionBindings) => boolean | typeof FAST_PATH_GAVE_UP) | undefined;
} {
  const program = environment(true).parse(source);
  const checked = program.check();
  if (!checked.valid) throw new Error(`not a valid condition: ${source}`);
  const fast = compileFastPath(program.ast, FACT_VARIABLES);
  return {
    library: (bindings): unknown => program(bindings) as unknown,
    fast: fast && ((bindings) => fast(bindings)),
  };
}
