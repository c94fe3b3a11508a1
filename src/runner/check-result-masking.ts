import { quoteLiteral, type EngineSession } from '../engines/engine.ts';
import {
  HASH_KEY_VARIABLE,
  HASH_KEY_VARIABLE_SQL,
  REDACTION_MARKER,
  fieldTypeSql,
  maskExpression,
  sanitizeEngineErrorMessage,
  setHashKeyVariableSql,
} from '../governance/index.ts';
import type { CheckResult, FieldDef, MaskKind } from '../model/index.ts';
import { checkValueSources } from '../quality/index.ts';
import type { RunContext } from './run-context.ts';

/**
 * Validation results are catalog metadata: the version's record, `tessera show`, `check`, `--json`
 * output and every later surface show them to whoever may see the table's description, not only to
 * whoever may read its rows. So the values a result carries from a sensitive column (samples of
 * unexpected values, an observed minimum, the distinct values, the most common value…) are
 * recorded masked with the column's mask (REDACT when it has none), as a principal who unmasks
 * nothing would see them; counts, proportions and types stay as they are.
 *
 * Rows sampled by custom SQL keep the columns named like a field of the table (masked when the
 * field is sensitive); other columns could be derived from anything, so on a table with sensitive
 * fields they read `[REDACTED]`. Masked values are shown as text.
 */
export async function maskCheckResults(
  session: EngineSession,
  checks: CheckResult[],
  fields: FieldDef[],
  hashKey: string,
): Promise<CheckResult[]> {
  const byName = new Map(fields.map((field) => [field.name.toLowerCase(), field]));
  if (!fields.some((field) => field.sensitivity)) return checks;

  // A check the engine could not evaluate may quote the value it failed on.
  const sanitized = checks.map((check) =>
    check.error === undefined ? check : { ...check, error: sanitizeEngineErrorMessage(check.error) },
  );
  const masker = new ValueMasker();
  const plans = sanitized.map((check) => planMasking(check, byName, masker));
  if (plans.every((plan) => plan === undefined)) return sanitized;
  // A plan may only redact (nothing to compute), and must still apply.
  const masked = masker.isEmpty ? [] : await masker.run(session, hashKey);
  return plans.map((plan, index) => (plan ? plan(masked) : sanitized[index]!));
}

/**
 * Check results as the catalog may record and show them: sensitive values masked, except those of
 * fields the checked version stores masked (`storedMasks`, as recorded or about to be published):
 * the checks saw nothing else. Not the table's current `store:`, which a YAML edit changes before
 * any version is written that way; a version without a record is checked as raw.
 */
export function recordableChecks(
  context: RunContext,
  session: EngineSession,
  storedMasks: Readonly<Record<string, MaskKind>> | undefined,
  fields: FieldDef[],
  checks: CheckResult[],
): Promise<CheckResult[]> {
  const asStored = fields.map((field) =>
    storedMasks?.[field.name] === undefined ? field : { ...field, sensitivity: undefined, mask: undefined },
  );
  return maskCheckResults(session, checks, asStored, context.hashKey);
}

/** Values to mask, collected across every check so one query masks them all. */
class ValueMasker {
  private readonly expressions: string[] = [];

  get isEmpty(): boolean {
    return this.expressions.length === 0;
  }

  /** Queue `value` (a JSON value from a result) to be masked as `field`; returns its slot. */
  add(value: unknown, field: FieldDef): number {
    const literal = literalOf(value);
    const masked =
      literal === undefined
        ? quoteLiteral(REDACTION_MARKER)
        : `CAST(${maskExpression(field.mask ?? 'REDACT', `TRY_CAST(${literal} AS ${fieldTypeSql(field.type)})`, field.type, { hashKeySql: HASH_KEY_VARIABLE_SQL })} AS VARCHAR)`;
    // A value that is there but does not read as the field's type is hidden, not shown.
    const shown = value === null ? 'NULL' : `coalesce(${masked}, ${quoteLiteral(REDACTION_MARKER)})`;
    this.expressions.push(shown);
    return this.expressions.length - 1;
  }

  async run(session: EngineSession, hashKey: string): Promise<unknown[]> {
    await session.run(setHashKeyVariableSql(hashKey));
    try {
      const select = this.expressions.map((expression, slot) => `${expression} AS m${slot}`).join(', ');
      const row = (await session.query(`SELECT ${select}`)).rows[0] ?? {};
      return this.expressions.map((_, slot) => row[`m${slot}`] ?? null);
    } finally {
      // The session may go on to run repo SQL (validations): it must not read the key.
      await session.run(`RESET VARIABLE ${HASH_KEY_VARIABLE}`);
    }
  }
}

type MaskingPlan = (masked: unknown[]) => CheckResult;

/** What to replace in one result once values are masked; undefined when it carries nothing sensitive. */
function planMasking(
  check: CheckResult,
  fields: ReadonlyMap<string, FieldDef>,
  masker: ValueMasker,
): MaskingPlan | undefined {
  const sources = checkValueSources(check.expectation);
  const sensitive = (name: string) => {
    const field = fields.get(name.toLowerCase());
    return field?.sensitivity ? field : undefined;
  };
  /** A sampled row: each column masked as its field, or hidden when no field says what it is. */
  const row = (value: unknown): ((masked: unknown[]) => unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return () => REDACTION_MARKER;
    const entries = Object.entries(value).map(([key, cell]) => {
      const field = fields.get(key.toLowerCase());
      if (field && !field.sensitivity) return () => [key, cell];
      if (!field && !sources.customSql) return () => [key, cell];
      if (!field) return () => [key, REDACTION_MARKER];
      const slot = masker.add(cell, field);
      return (masked: unknown[]) => [key, masked[slot]];
    });
    return (masked) => Object.fromEntries(entries.map((entry) => entry(masked)));
  };

  if (sources.customSql) {
    if (!check.sample?.length) return undefined;
    const rows = check.sample.map(row);
    return (masked) => ({ ...check, sample: rows.map((each) => each(masked)) });
  }

  const columns = sources.columnArgs.flatMap((arg) => {
    const value = check.args[arg];
    return typeof value === 'string' ? [value] : Array.isArray(value) ? value.map(String) : [];
  });
  if (!columns.some((column) => sensitive(column))) return undefined;
  const single = columns.length === 1 ? sensitive(columns[0]!) : undefined;
  const value = (cell: unknown): ((masked: unknown[]) => unknown) => {
    if (Array.isArray(cell)) {
      const items = cell.map(value);
      return (masked) => items.map((item) => item(masked));
    }
    if (single && (typeof cell !== 'object' || cell === null)) {
      const slot = masker.add(cell, single);
      return (masked) => masked[slot];
    }
    return row(cell);
  };

  /** A column pair's sampled `[a, b]`: each value masked as the column at its position. */
  const tuple = (cell: unknown): ((masked: unknown[]) => unknown) | undefined => {
    if (columns.length < 2 || !Array.isArray(cell) || cell.length !== columns.length) return undefined;
    const items = cell.map((item, index) => {
      const field = sensitive(columns[index]!);
      if (!field) return () => item;
      const slot = masker.add(item, field);
      return (masked: unknown[]) => masked[slot];
    });
    return (masked) => items.map((item) => item(masked));
  };
  const sample = check.sample?.map((cell) => tuple(cell) ?? value(cell));
  let observed: ((masked: unknown[]) => unknown) | undefined;
  if (sources.observesValues) {
    const observedValue = check.observedValue;
    if (single && isQuantiles(observedValue)) {
      const values = value(observedValue.values);
      observed = (masked) => ({ ...observedValue, values: values(masked) });
    } else {
      observed = single ? value(observedValue) : () => REDACTION_MARKER;
    }
  }
  return (masked) => ({
    ...check,
    ...(sample ? { sample: sample.map((each) => each(masked)) } : {}),
    ...(observed ? { observedValue: observed(masked) } : {}),
  });
}

function isQuantiles(value: unknown): value is { quantiles: unknown[]; values: unknown[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { values?: unknown }).values);
}

/** A SQL literal for a JSON scalar; undefined for anything else (objects, arrays). */
function literalOf(value: unknown): string | undefined {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return undefined;
}
