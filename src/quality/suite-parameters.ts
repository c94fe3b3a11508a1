/**
 * GE's evaluation (suite) parameters: an argument written `{ $PARAMETER: "now() - timedelta(weeks=52)" }`
 * is computed when the check runs. The expression language is GE's: numbers, `+ - * / ^`,
 * parentheses, `PI`, `E`, `sin cos tan exp abs trunc round sgn`, and `now()`, `datetime(…)`,
 * `timedelta(…)` with positional or keyword arguments, so dates can be computed relative to the
 * run. A date evaluates to Python's ISO spelling (`2024-01-31T12:00:00`), which the date bounds
 * of every expectation accept. GE's runtime form `{ $PARAMETER: "x", "$PARAMETER.x": value }`
 * uses the value given. Tessera has no suite of stored parameters, so any other name is a
 * problem, reported with the argument it sits in.
 */

/** What an expression computes: a number, a date (ms since the epoch, no zone) or a duration. */
type Value =
  { kind: 'number'; value: number } | { kind: 'datetime'; ms: number } | { kind: 'timedelta'; ms: number };

/** An expression GE would refuse: the message completes "`$PARAMETER` …". */
class ParameterError extends Error {}

const PARAMETER = '$PARAMETER';

/** Whether an argument's value is GE's `{ $PARAMETER: "expression" }`. */
export function isParameter(value: unknown): value is Record<string, unknown> & { $PARAMETER: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && PARAMETER in value;
}

/** Arguments with every `$PARAMETER` computed, and a problem per argument that could not be. */
export interface ResolvedArguments {
  args: Record<string, unknown>;
  problems: string[];
}

/** Compute the `$PARAMETER` arguments as of `now` (UTC); other arguments are left as they are. */
export function resolveParameters(args: Record<string, unknown>, now: Date): ResolvedArguments {
  const resolved: Record<string, unknown> = { ...args };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (!isParameter(value)) continue;
    const expression = value[PARAMETER];
    if (typeof expression !== 'string' || expression.trim() === '') {
      problems.push(
        `\`${name}\`: \`${PARAMETER}\` must be an expression such as "now() - timedelta(days=1)"`,
      );
      continue;
    }
    const given = `${PARAMETER}.${expression}`;
    if (given in value) {
      resolved[name] = value[given];
      continue;
    }
    try {
      resolved[name] = evaluateParameter(expression, now);
    } catch (error) {
      if (!(error instanceof ParameterError)) throw error;
      problems.push(`\`${name}\`: \`${PARAMETER}\` "${expression}" ${error.message}`);
    }
  }
  return { args: resolved, problems };
}

/** The value of one expression: a number, or a date as ISO text (Python's `isoformat`). */
export function evaluateParameter(expression: string, now: Date): number | string {
  const parser = new Parser(expression, now);
  const value = parser.parse();
  if (value.kind === 'number') {
    if (!Number.isFinite(value.value)) throw new ParameterError('does not compute to a finite number');
    return value.value;
  }
  if (value.kind === 'datetime') return isoformat(value.ms);
  throw new ParameterError('computes a duration; add it to a date, as in "now() - timedelta(days=7)"');
}

/** Python's `datetime.isoformat()` of a naive date: seconds always, microseconds when not zero. */
function isoformat(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new ParameterError('computes a date out of range');
  const text = date.toISOString().replace('Z', '');
  return text.endsWith('.000') ? text.slice(0, -4) : `${text}000`;
}

const MS = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

/** Python's `round`: halves go to the even neighbour. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

type Call = { positional: Value[]; keywords: Map<string, Value> };

const NUMERIC_FUNCTIONS: Record<string, (value: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  exp: Math.exp,
  abs: Math.abs,
  trunc: Math.trunc,
  round: roundHalfEven,
  sgn: (value) => (value < -1e-12 ? -1 : value > 1e-12 ? 1 : 0),
};

/** GE's grammar (its pyparsing `fourFn`), by recursive descent over the expression text. */
class Parser {
  private position = 0;

  constructor(
    private readonly text: string,
    private readonly now: Date,
  ) {}

  parse(): Value {
    const value = this.expression();
    this.skipSpace();
    if (this.position < this.text.length)
      throw new ParameterError(`cannot be read past "${this.text.slice(0, this.position)}"`);
    return value;
  }

  private skipSpace(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position]!)) this.position++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.text[this.position];
  }

  private take(char: string): boolean {
    if (this.peek() !== char) return false;
    this.position++;
    return true;
  }

  private expression(): Value {
    let left = this.term();
    for (;;) {
      if (this.take('+')) left = add(left, this.term(), 1);
      else if (this.take('-')) left = add(left, this.term(), -1);
      else return left;
    }
  }

  private term(): Value {
    let left = this.factor();
    for (;;) {
      if (this.take('*')) left = multiply(left, this.factor());
      else if (this.take('/')) left = divide(left, this.factor());
      else return left;
    }
  }

  private factor(): Value {
    const base = this.unary();
    if (!this.take('^')) return base;
    const exponent = this.factor();
    return { kind: 'number', value: Math.pow(asNumber(base, '^'), asNumber(exponent, '^')) };
  }

  private unary(): Value {
    let sign = 1;
    for (;;) {
      if (this.take('-')) sign = -sign;
      else if (!this.take('+')) break;
    }
    const value = this.primary();
    return sign === 1 ? value : multiply(value, { kind: 'number', value: -1 });
  }

  private primary(): Value {
    const next = this.peek();
    if (next === undefined) throw new ParameterError('ends too early');
    if (this.take('(')) {
      const value = this.expression();
      if (!this.take(')')) throw new ParameterError('is missing a closing parenthesis');
      return value;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.position));
    if (number) {
      this.position += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const name = /^[A-Za-z][A-Za-z0-9_$]*/.exec(this.text.slice(this.position));
    if (!name) throw new ParameterError(`cannot be read at "${this.text.slice(this.position)}"`);
    this.position += name[0].length;
    if (this.take('(')) return this.call(name[0], this.arguments());
    const constant = name[0].toUpperCase();
    if (constant === 'PI') return { kind: 'number', value: Math.PI };
    if (constant === 'E') return { kind: 'number', value: Math.E };
    throw new ParameterError(
      `names \`${name[0]}\`, which has no value: Tessera keeps no suite parameters (use numbers, now(), datetime(…), timedelta(…))`,
    );
  }

  private arguments(): Call {
    const call: Call = { positional: [], keywords: new Map() };
    if (this.take(')')) return call;
    do {
      const keyword = /^\s*([A-Za-z_]+)\s*=(?!=)/.exec(this.text.slice(this.position));
      if (keyword) {
        this.position += keyword[0].length;
        call.keywords.set(keyword[1]!, this.expression());
      } else {
        call.positional.push(this.expression());
      }
    } while (this.take(','));
    if (!this.take(')')) throw new ParameterError('is missing a closing parenthesis');
    return call;
  }

  private call(name: string, call: Call): Value {
    const numeric = NUMERIC_FUNCTIONS[name];
    if (numeric) {
      if (call.positional.length !== 1 || call.keywords.size > 0)
        throw new ParameterError(`calls ${name}() with other than one number`);
      return { kind: 'number', value: numeric(asNumber(call.positional[0]!, name)) };
    }
    if (name === 'now') {
      if (call.positional.length > 0 || call.keywords.size > 0)
        throw new ParameterError('calls now() with arguments');
      return { kind: 'datetime', ms: this.now.getTime() };
    }
    if (name === 'datetime') {
      const [year, month, day, hour, minute, second, microsecond] = fields(call, name, [
        'year',
        'month',
        'day',
        'hour',
        'minute',
        'second',
        'microsecond',
      ]);
      if (year === undefined || month === undefined || day === undefined)
        throw new ParameterError('calls datetime() without year, month and day');
      const parts = [year, month, day, hour ?? 0, minute ?? 0, second ?? 0, microsecond ?? 0];
      if (!parts.every(Number.isInteger)) throw new ParameterError('calls datetime() with a fraction');
      const ms =
        Date.UTC(year, month - 1, day, hour ?? 0, minute ?? 0, second ?? 0) + (microsecond ?? 0) / 1000;
      const date = new Date(ms);
      const valid =
        year >= 1 &&
        year <= 9999 &&
        date.getUTCFullYear() === year &&
        date.getUTCMonth() === month - 1 &&
        date.getUTCDate() === day &&
        (hour ?? 0) < 24 &&
        (minute ?? 0) < 60 &&
        (second ?? 0) < 60 &&
        (microsecond ?? 0) < 1_000_000;
      if (!valid)
        throw new ParameterError(`calls datetime() with a date that does not exist (${parts.join(', ')})`);
      return { kind: 'datetime', ms };
    }
    if (name === 'timedelta') {
      const [days, seconds, microseconds, milliseconds, minutes, hours, weeks] = fields(call, name, [
        'days',
        'seconds',
        'microseconds',
        'milliseconds',
        'minutes',
        'hours',
        'weeks',
      ]);
      return {
        kind: 'timedelta',
        ms:
          (days ?? 0) * MS.day +
          (seconds ?? 0) * MS.second +
          (microseconds ?? 0) / 1000 +
          (milliseconds ?? 0) +
          (minutes ?? 0) * MS.minute +
          (hours ?? 0) * MS.hour +
          (weeks ?? 0) * MS.week,
      };
    }
    throw new ParameterError(
      `calls \`${name}()\`, which GE's parameters do not have (functions: ${[...Object.keys(NUMERIC_FUNCTIONS), 'now', 'datetime', 'timedelta'].join(', ')})`,
    );
  }
}

/** A call's numeric arguments in Python's order, positional first, then by keyword. */
function fields(call: Call, name: string, order: string[]): (number | undefined)[] {
  if (call.positional.length > order.length)
    throw new ParameterError(`calls ${name}() with too many arguments`);
  const values: (number | undefined)[] = order.map((_key, index) => {
    const value = call.positional[index];
    return value === undefined ? undefined : asNumber(value, name);
  });
  for (const [key, value] of call.keywords) {
    const index = order.indexOf(key);
    if (index < 0) throw new ParameterError(`calls ${name}() with \`${key}\`; it takes ${order.join(', ')}`);
    if (values[index] !== undefined) throw new ParameterError(`calls ${name}() with \`${key}\` twice`);
    values[index] = asNumber(value, name);
  }
  return values;
}

function asNumber(value: Value, where: string): number {
  if (value.kind !== 'number') throw new ParameterError(`gives ${where} a ${value.kind}, not a number`);
  return value.value;
}

function add(left: Value, right: Value, sign: 1 | -1): Value {
  if (left.kind === 'number' && right.kind === 'number')
    return { kind: 'number', value: left.value + sign * right.value };
  if (left.kind === 'datetime' && right.kind === 'timedelta')
    return { kind: 'datetime', ms: left.ms + sign * right.ms };
  if (left.kind === 'timedelta' && right.kind === 'datetime' && sign === 1)
    return { kind: 'datetime', ms: left.ms + right.ms };
  if (left.kind === 'timedelta' && right.kind === 'timedelta')
    return { kind: 'timedelta', ms: left.ms + sign * right.ms };
  if (left.kind === 'datetime' && right.kind === 'datetime' && sign === -1)
    return { kind: 'timedelta', ms: left.ms - right.ms };
  throw new ParameterError(
    `${sign === 1 ? 'adds' : 'subtracts'} a ${right.kind} ${sign === 1 ? 'to' : 'from'} a ${left.kind}`,
  );
}

function multiply(left: Value, right: Value): Value {
  if (left.kind === 'number' && right.kind === 'number')
    return { kind: 'number', value: left.value * right.value };
  if (left.kind === 'timedelta' && right.kind === 'number')
    return { kind: 'timedelta', ms: left.ms * right.value };
  if (left.kind === 'number' && right.kind === 'timedelta')
    return { kind: 'timedelta', ms: left.value * right.ms };
  throw new ParameterError(`multiplies a ${left.kind} by a ${right.kind}`);
}

function divide(left: Value, right: Value): Value {
  if (right.kind === 'number' && right.value === 0) throw new ParameterError('divides by zero');
  if (left.kind === 'number' && right.kind === 'number')
    return { kind: 'number', value: left.value / right.value };
  if (left.kind === 'timedelta' && right.kind === 'number')
    return { kind: 'timedelta', ms: left.ms / right.value };
  throw new ParameterError(`divides a ${left.kind} by a ${right.kind}`);
}
