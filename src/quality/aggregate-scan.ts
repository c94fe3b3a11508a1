/**
 * The fused scan: every aggregate any check asks for lands in ONE `SELECT … FROM relation`, so ten
 * checks cost about one pass over the data. Identical expressions (the row count, `count(x)` shared
 * by several checks on `x`) are computed once.
 */
export class AggregateScan {
  private readonly expressions: string[] = [];
  private readonly positions = new Map<string, number>();

  /** Add an aggregate expression; returns the handle to read its value with. */
  add(expression: string): number {
    const known = this.positions.get(expression);
    if (known !== undefined) return known;
    this.expressions.push(expression);
    this.positions.set(expression, this.expressions.length - 1);
    return this.expressions.length - 1;
  }

  get isEmpty(): boolean {
    return this.expressions.length === 0;
  }

  /** The one SELECT; `aN` aliases keep arbitrary expressions addressable. */
  toSql(relation: string): string {
    const list = this.expressions.map((expression, index) => `${expression} AS a${index}`).join(',\n  ');
    return `SELECT\n  ${list}\nFROM ${relation}`;
  }
}

/** Reads the fused scan's values back by handle. */
export type AggregateReader = (handle: number) => unknown;

/** A reader over one result row of an `AggregateScan` (undefined row: every value undefined). */
export function readerFor(row: Record<string, unknown> | undefined): AggregateReader {
  return (handle) => row?.[`a${handle}`];
}

/** A count as a number: the engine hands back BIGINT as a number when exact, else a string. */
export function asCount(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

/** `AND` of predicates, dropping the always-true ones; `TRUE` when nothing is left. */
export function allOf(...predicates: (string | undefined)[]): string {
  const parts = predicates.filter((predicate): predicate is string => !!predicate && predicate !== 'TRUE');
  if (parts.length === 0) return 'TRUE';
  return parts.length === 1 ? parts[0]! : parts.map((part) => `(${part})`).join(' AND ');
}

/** `aggregate FILTER (WHERE …)`, or the bare aggregate when every row counts. */
export function filtered(aggregate: string, ...predicates: (string | undefined)[]): string {
  const condition = allOf(...predicates);
  return condition === 'TRUE' ? aggregate : `${aggregate} FILTER (WHERE ${condition})`;
}

/** The number of rows matching every predicate (`count_if`: NULL counts as not matching). */
export function countWhere(...predicates: (string | undefined)[]): string {
  const condition = allOf(...predicates);
  return condition === 'TRUE' ? 'count(*)' : `count_if(${condition})`;
}
