/**
 * A fast path for CEL conditions: the common, well-typed part of CEL compiled once into plain
 * JavaScript closures, with `@marcbachmann/cel-js` as the reference for everything else.
 *
 * The library interprets the checked syntax tree on every evaluation (a root context, a runtime
 * type per operand, an overload lookup per operator): about 1–2 µs a condition, which is most of
 * a decision over 100 rules. The closures here do the same work for the cases policies are made
 * of (field reads, comparisons, `&&`/`||`/`!`, string concatenation, `startsWith` and friends,
 * `in` a list, `has()`, `size()`, timestamp getters in UTC) at a few nanoseconds each.
 *
 * The rule that keeps the two equal: **the fast path never decides anything the library might
 * decide differently**. Whatever it is unsure of (an operand of an unexpected type, a missing
 * key, an int overflow, a timezone argument, any error at all) it gives up on the whole
 * condition, and the library evaluates it from the start. CEL is free of side effects, so
 * evaluating again is safe, and every error, and every error absorbed by `&&` or `||`, is the
 * library's own. An expression using anything outside that subset is not compiled at all.
 * test/guard/policy/cel-fast-path.test.ts checks the two agree, on generated conditions and
 * inputs, including the ones where the fast path has to give up.
 */

/** A compiled sub-expression: its value, or a throw of {@link GIVE_UP}. */
type Fast = (bindings: Readonly<Record<string, unknown>>) => unknown;

/**
 * Thrown by a closure that cannot be sure of the library's answer. Made once: a throw costs no
 * stack capture, and nothing outside this file ever sees it.
 */
const GIVE_UP = new Error('cel fast path: give up');

const MAX_INT = 9223372036854775807n;
const MIN_INT = -9223372036854775808n;

/** A registered message type's constructor. */
export type FactType = abstract new (...args: never[]) => unknown;

type Facts = {
  readonly variables: ReadonlyMap<string, FactType>;
  readonly types: ReadonlySet<unknown>;
};

/** What a node of the library's checked syntax tree looks like (parser.js `ASTNode`). */
type Node = { readonly op: string; readonly args: unknown };

const giveUp = (): never => {
  throw GIVE_UP;
};

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && typeof (value as Node).op === 'string';

/** `holder`'s own member `key`, or a give-up when it has none (or it is undefined). */
function ownValue(holder: object, key: string): unknown {
  const found = Object.hasOwn(holder, key) ? (holder as Record<string, unknown>)[key] : undefined;
  return found === undefined ? giveUp() : found;
}

/** A plain JSON object (as tool arguments are): read as a CEL map. */
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * Compiles `ast` into a closure evaluating it with `bindings`, or returns undefined when the
 * expression uses something the fast path does not cover. `variables` names the variables bound
 * to a registered message type, by its constructor: their declared fields are plain properties
 * of the declared type (cel-condition.ts builds them so), read directly.
 */
export function compileFastPath(
  ast: unknown,
  variables: ReadonlyMap<string, FactType>,
): ((bindings: Readonly<Record<string, unknown>>) => boolean | typeof FAST_PATH_GAVE_UP) | undefined {
  const compiled = compileNode(ast, { variables, types: new Set(variables.values()) });
  if (compiled === undefined) return undefined;
  return (bindings) => {
    try {
      const value = compiled(bindings);
      return typeof value === 'boolean' ? value : FAST_PATH_GAVE_UP;
    } catch {
      // GIVE_UP, or anything unforeseen: either way the library decides.
      return FAST_PATH_GAVE_UP;
    }
  };
}

/** What {@link compileFastPath}'s closure returns when the library must evaluate the condition. */
export const FAST_PATH_GAVE_UP: unique symbol = Symbol('cel fast path gave up');

function compileNode(node: unknown, facts: Facts): Fast | undefined {
  if (!isNode(node)) return undefined;
  const args = node.args;
  switch (node.op) {
    case 'value':
      return literal(args);
    case 'id': {
      if (typeof args !== 'string' || args in Object.prototype) return undefined;
      const name = args;
      // A declared variable (the checker admits no other), which `bind` sets on a plain object.
      return (bindings) => bindings[name] ?? giveUp();
    }
    case '.':
      return select(args, facts);
    case '[]':
      return index(args, facts);
    case '!_':
      return unary(args, facts, not);
    case '-_':
      return unary(args, facts, negate);
    case '&&':
    case '||':
      return logical(node.op, args, facts);
    case '?:':
      return conditional(args, facts);
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
    case '+':
    case '-':
    case '*':
    case 'in':
      return binary(node.op, args, facts);
    case 'list':
      return list(args, facts);
    case 'rcall':
      return receiverCall(args, facts);
    case 'call':
      return globalCall(args, facts);
    default:
      return undefined;
  }
}

function literal(value: unknown): Fast | undefined {
  if (value === null || ['bigint', 'number', 'string', 'boolean'].includes(typeof value)) return () => value;
  return undefined;
}

function pair(args: unknown, facts: Facts): [Fast, Fast] | undefined {
  if (!Array.isArray(args) || args.length !== 2) return undefined;
  const left = compileNode(args[0], facts);
  const right = compileNode(args[1], facts);
  return left === undefined || right === undefined ? undefined : [left, right];
}

/** `receiver.field`: a key of a JSON object (present and defined), or a declared fact field. */
function select(args: unknown, facts: Facts): Fast | undefined {
  if (!Array.isArray(args) || args.length !== 2 || typeof args[1] !== 'string') return undefined;
  const field = args[1];
  if (field === '__proto__') return undefined;
  const receiverNode: unknown = args[0];
  // `principal.role` and the like: a variable of a fact type, read without asking what it is.
  const type =
    isNode(receiverNode) && receiverNode.op === 'id' && typeof receiverNode.args === 'string'
      ? facts.variables.get(receiverNode.args)
      : undefined;
  if (type !== undefined) {
    const name = (receiverNode as Node).args as string;
    // Declared fields only, which the type's constructor sets on each instance: the checker
    // admits no other, and a name its prototype chain holds (`constructor`) is never compiled.
    if (field in (type.prototype as object)) return undefined;
    return (bindings) => {
      const value = bindings[name];
      return value instanceof type ? ((value as Record<string, unknown>)[field] ?? giveUp()) : giveUp();
    };
  }
  const receiver = compileNode(receiverNode, facts);
  if (receiver === undefined) return undefined;
  return (bindings) => fieldOf(receiver(bindings), field, facts);
}

function fieldOf(value: unknown, field: string, facts: Facts): unknown {
  const readable =
    isPlainObject(value) ||
    (typeof value === 'object' && value !== null && facts.types.has(value.constructor));
  return readable ? ownValue(value, field) : giveUp();
}

/** `receiver[key]`: a string key of a JSON object, or an int index of a list. */
function index(args: unknown, facts: Facts): Fast | undefined {
  const operands = pair(args, facts);
  if (operands === undefined) return undefined;
  const [receiver, key] = operands;
  return (bindings) => {
    const value = receiver(bindings);
    const at = key(bindings);
    if (typeof at === 'string' && isPlainObject(value) && at !== '__proto__') return ownValue(value, at);
    if (typeof at === 'bigint' && Array.isArray(value) && at >= 0n && at < BigInt(value.length)) {
      const found: unknown = value[Number(at)];
      return found === undefined ? giveUp() : found;
    }
    return giveUp();
  };
}

function unary(args: unknown, facts: Facts, apply: (value: unknown) => unknown): Fast | undefined {
  const operand = compileNode(args, facts);
  return operand === undefined ? undefined : (bindings) => apply(operand(bindings));
}

function not(value: unknown): boolean {
  return typeof value === 'boolean' ? !value : giveUp();
}

function negate(value: unknown): unknown {
  if (typeof value === 'number') return -value;
  if (typeof value === 'bigint' && value !== MIN_INT) return -value;
  return giveUp();
}

/**
 * `&&` and `||` between two bools, short-circuiting as CEL does when the left side decides. An
 * error or a non-bool on either side gives up: the library's commutative error rules take over.
 */
function logical(op: '&&' | '||', args: unknown, facts: Facts): Fast | undefined {
  const operands = pair(args, facts);
  if (operands === undefined) return undefined;
  const [left, right] = operands;
  const decisive = op === '||';
  return (bindings) => {
    const first = left(bindings);
    if (typeof first !== 'boolean') return giveUp();
    if (first === decisive) return decisive;
    const second = right(bindings);
    return typeof second === 'boolean' ? second : giveUp();
  };
}

function conditional(args: unknown, facts: Facts): Fast | undefined {
  if (!Array.isArray(args) || args.length !== 3) return undefined;
  const [test, then, otherwise] = args.map((arg: unknown) => compileNode(arg, facts));
  if (test === undefined || then === undefined || otherwise === undefined) return undefined;
  return (bindings) => {
    const chosen = test(bindings);
    if (typeof chosen !== 'boolean') return giveUp();
    return chosen ? then(bindings) : otherwise(bindings);
  };
}

type Primitive = 'bigint' | 'number' | 'string' | 'boolean';

/** Two operands of the same primitive CEL type (int, double, string, bool), else undefined. */
function sameType(a: unknown, b: unknown): Primitive | undefined {
  const type = typeof a;
  if (type !== typeof b) return undefined;
  return type === 'bigint' || type === 'number' || type === 'string' || type === 'boolean' ? type : undefined;
}

const checkedInt = (value: bigint): bigint => (value > MAX_INT || value < MIN_INT ? giveUp() : value);

function binary(op: string, args: unknown, facts: Facts): Fast | undefined {
  const operands = pair(args, facts);
  if (operands === undefined) return undefined;
  const [left, right] = operands;
  const onRight = Array.isArray(args) ? literalOperand(args[1]) : undefined;
  const onLeft = Array.isArray(args) && onRight === undefined ? literalOperand(args[0]) : undefined;
  // `100 <= usage.callsLastMinute` is `usage.callsLastMinute >= 100`.
  const against =
    onRight !== undefined
      ? againstLiteral(op, left, onRight)
      : onLeft !== undefined && Object.hasOwn(FLIPPED, op)
        ? againstLiteral(FLIPPED[op] as string, right, onLeft)
        : undefined;
  if (against !== undefined) return against;
  switch (op) {
    case '==':
      return (bindings) => equal(left(bindings), right(bindings));
    case '!=':
      return (bindings) => !equal(left(bindings), right(bindings));
    case '<':
      return (bindings) => order(left(bindings), right(bindings)) < 0;
    case '<=':
      return (bindings) => order(left(bindings), right(bindings)) <= 0;
    case '>':
      return (bindings) => order(left(bindings), right(bindings)) > 0;
    case '>=':
      return (bindings) => order(left(bindings), right(bindings)) >= 0;
    case '+':
      return (bindings) => {
        const a = left(bindings);
        const b = right(bindings);
        const type = sameType(a, b);
        if (type === 'string') return (a as string) + (b as string);
        if (type === 'number') return (a as number) + (b as number);
        if (type === 'bigint') return checkedInt((a as bigint) + (b as bigint));
        return giveUp();
      };
    case '-':
    case '*':
      return (bindings) => {
        const a = left(bindings);
        const b = right(bindings);
        const type = sameType(a, b);
        if (type === 'number')
          return op === '-' ? (a as number) - (b as number) : (a as number) * (b as number);
        if (type === 'bigint')
          return checkedInt(op === '-' ? (a as bigint) - (b as bigint) : (a as bigint) * (b as bigint));
        return giveUp();
      };
    case 'in':
      return (bindings) => contains(right(bindings), left(bindings));
    default:
      return undefined;
  }
}

/** The operator with its operands swapped. */
const FLIPPED: Readonly<Record<string, string>> = {
  '==': '==',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

/** A literal int, double or string operand, or undefined. */
function literalOperand(node: unknown): bigint | number | string | undefined {
  if (!isNode(node) || node.op !== 'value') return undefined;
  const value = node.args;
  return typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string'
    ? value
    : undefined;
}

/**
 * A comparison with a literal on the right (`usage.callsLastMinute >= 100`, `tenant.id != 'x'`),
 * the common shape of a policy condition (or on the left, swapped): one closure, the literal's
 * type known once. The same answers as the general case: an operand of another type gives up,
 * NaN orders nothing.
 */
function againstLiteral(op: string, left: Fast, literal: bigint | number | string): Fast | undefined {
  const type = typeof literal;
  const same = (value: unknown): value is typeof literal => typeof value === type || giveUp();
  switch (op) {
    case '==':
      return (bindings) => {
        const value = left(bindings);
        return same(value) && value === literal;
      };
    case '!=':
      return (bindings) => {
        const value = left(bindings);
        return same(value) && value !== literal;
      };
    case '<':
      return (bindings) => {
        const value = left(bindings);
        return same(value) && value < literal;
      };
    case '<=':
      return (bindings) => {
        const value = left(bindings);
        return same(value) && value <= literal;
      };
    case '>':
      return (bindings) => {
        const value = left(bindings);
        return same(value) && value > literal;
      };
    case '>=':
      return (bindings) => {
        const value = left(bindings);
        return same(value) && value >= literal;
      };
    default:
      return undefined;
  }
}

/** `==` of two values of one primitive type, or two nulls; anything else gives up. */
function equal(a: unknown, b: unknown): boolean {
  if (a === null && b === null) return true;
  return sameType(a, b) === undefined ? giveUp() : a === b;
}

/** The sign of `a` against `b`, for ints, doubles, strings and timestamps; NaN orders nothing. */
function order(a: unknown, b: unknown): number {
  const type = sameType(a, b);
  if (type === 'bigint' || type === 'number' || type === 'string') return sign(a as string, b as string);
  if (a instanceof Date && b instanceof Date) return sign(a.getTime(), b.getTime());
  return giveUp();
}

function sign<T>(x: T, y: T): number {
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
}

/** `item in collection`: a primitive in a list of that type, or a string key of a JSON object. */
function contains(collection: unknown, item: unknown): boolean {
  if (Array.isArray(collection)) {
    for (const element of collection) {
      if (sameType(element, item) === undefined) return giveUp();
      if (element === item) return true;
    }
    return false;
  }
  if (typeof item === 'string' && isPlainObject(collection)) {
    return Object.hasOwn(collection, item) && collection[item] !== undefined;
  }
  return giveUp();
}

function list(args: unknown, facts: Facts): Fast | undefined {
  if (!Array.isArray(args)) return undefined;
  const elements = args.map((arg: unknown) => compileNode(arg, facts));
  if (elements.some((element) => element === undefined)) return undefined;
  const compiled = elements as Fast[];
  return (bindings) => compiled.map((element) => element(bindings));
}

const STRING_METHODS: Record<string, (text: string, operand: string) => boolean> = {
  startsWith: (text, operand) => text.startsWith(operand),
  endsWith: (text, operand) => text.endsWith(operand),
  contains: (text, operand) => text.includes(operand),
};

/** The CEL ints a timestamp getter yields but for the year, made once rather than per call. */
const SMALL_INTS: readonly bigint[] = Array.from({ length: 62 }, (_, value) => BigInt(value));

// The library's timestamp getters without a timezone: UTC (functions.js).
const TIMESTAMP_GETTERS: Record<string, (time: Date) => number> = {
  getHours: (time) => time.getUTCHours(),
  getMinutes: (time) => time.getUTCMinutes(),
  getSeconds: (time) => time.getUTCSeconds(),
  getDayOfWeek: (time) => time.getUTCDay(),
  getDate: (time) => time.getUTCDate(),
  getDayOfMonth: (time) => time.getUTCDate() - 1,
  getMonth: (time) => time.getUTCMonth(),
  getFullYear: (time) => time.getUTCFullYear(),
};

/** `receiver.name(args)`: string tests and timestamp getters. */
function receiverCall(args: unknown, facts: Facts): Fast | undefined {
  if (!Array.isArray(args) || args.length !== 3 || typeof args[0] !== 'string' || !Array.isArray(args[2]))
    return undefined;
  const [name, receiverNode, operandNodes] = args as [string, unknown, unknown[]];
  const receiver = compileNode(receiverNode, facts);
  if (receiver === undefined) return undefined;
  const test = Object.hasOwn(STRING_METHODS, name) ? STRING_METHODS[name] : undefined;
  if (test !== undefined && operandNodes.length === 1) {
    const operand = compileNode(operandNodes[0], facts);
    if (operand === undefined) return undefined;
    return (bindings) => {
      const text = receiver(bindings);
      const other = operand(bindings);
      return typeof text === 'string' && typeof other === 'string' ? test(text, other) : giveUp();
    };
  }
  const getter = Object.hasOwn(TIMESTAMP_GETTERS, name) ? TIMESTAMP_GETTERS[name] : undefined;
  if (getter !== undefined && operandNodes.length === 0) {
    return (bindings) => {
      const time = receiver(bindings);
      if (!(time instanceof Date)) return giveUp();
      const value = getter(time);
      return SMALL_INTS[value] ?? (Number.isInteger(value) ? BigInt(value) : giveUp());
    };
  }
  if (name === 'size' && operandNodes.length === 0) return (bindings) => sizeOf(receiver(bindings));
  return undefined;
}

/** `size(x)` and `has(x.field)`. */
function globalCall(args: unknown, facts: Facts): Fast | undefined {
  if (!Array.isArray(args) || args.length !== 2 || !Array.isArray(args[1]) || args[1].length !== 1)
    return undefined;
  const [name, [operandNode]] = args as [string, [unknown]];
  if (name === 'size') {
    const operand = compileNode(operandNode, facts);
    return operand === undefined ? undefined : (bindings) => sizeOf(operand(bindings));
  }
  if (name === 'has' && isNode(operandNode) && operandNode.op === '.') {
    const selectArgs = operandNode.args;
    if (!Array.isArray(selectArgs) || typeof selectArgs[1] !== 'string' || selectArgs[1] === '__proto__')
      return undefined;
    const receiver = compileNode(selectArgs[0], facts);
    const field = selectArgs[1];
    if (receiver === undefined) return undefined;
    return (bindings) => {
      const value = receiver(bindings);
      return isPlainObject(value) ? Object.hasOwn(value, field) && value[field] !== undefined : giveUp();
    };
  }
  return undefined;
}

/** A string's size in code points (as CEL counts), a list's length, a JSON object's key count. */
function sizeOf(value: unknown): bigint {
  if (typeof value === 'string') {
    let count = 0;
    for (const _ of value) count++;
    return BigInt(count);
  }
  if (Array.isArray(value)) return BigInt(value.length);
  if (isPlainObject(value)) return BigInt(Object.keys(value).length);
  return giveUp();
}
