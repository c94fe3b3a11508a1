import { editDistance } from '../diagnostics/index.ts';
import type { ValidationDef } from '../model/index.ts';
import * as rules from './argument-rules.ts';
import { EXPECTATIONS, UNSUPPORTED_EXPECTATIONS } from './expectation-catalog.ts';
import type { ArgumentRule, ExpectationSpec } from './expectation-spec.ts';
import { CONDITION_PARSERS, sqlFragmentProblem } from './sql-text.ts';
import { resolveParameters } from './suite-parameters.ts';

/** GE arguments about reporting, accepted everywhere and ignored: Tessera has one result shape. */
const REPORTING_ARGS: Record<string, ArgumentRule> = {
  result_format: rules.anyValue,
  catch_exceptions: rules.anyValue,
  include_config: rules.anyValue,
  meta: rules.anyValue,
  notes: rules.anyValue,
};

const ROW_CONDITION_ARGS: Record<string, ArgumentRule> = {
  row_condition: (value) => rules.text(value) ?? sqlFragmentProblem(value as string, 'expression'),
  condition_parser: rules.oneOf(...CONDITION_PARSERS),
};

/** Every argument the expectation accepts, with its rule. */
export function acceptedArguments(spec: ExpectationSpec): Record<string, ArgumentRule> {
  return {
    ...REPORTING_ARGS,
    ...(spec.acceptsRowCondition === false ? {} : ROW_CONDITION_ARGS),
    ...(spec.acceptsMostly
      ? { mostly: (value: unknown) => (value === null ? undefined : rules.fraction(value)) }
      : {}),
    ...spec.args,
  };
}

/**
 * Problems with a validation's name or arguments, as messages for a person ("unknown expectation
 * `expect_foo`; did you mean `expect_bar`?", "`column` is required", "`mostly` must be a number
 * between 0 and 1"). With `columns`, arguments naming columns are checked against them too.
 * Pure: no engine, no data. Empty = fine. `{ $PARAMETER: "…" }` arguments are judged by their value.
 */
export function validationProblems(validation: ValidationDef, columns?: string[]): string[] {
  const spec = EXPECTATIONS.get(validation.expectation);
  if (!spec) {
    const unsupported = UNSUPPORTED_EXPECTATIONS.get(validation.expectation);
    if (unsupported)
      return [`\`${validation.expectation}\` is not supported by Tessera's validation gate: ${unsupported}`];
    const suggestions = closestNames(validation.expectation, [...EXPECTATIONS.keys()]);
    const hint =
      suggestions.length > 0
        ? `; did you mean ${suggestions.map((name) => `\`${name}\``).join(' or ')}?`
        : '';
    return [`unknown expectation \`${validation.expectation}\`${hint}`];
  }
  // GE's `$PARAMETER` expressions are checked by computing them; the values they take at run
  // time (`now()`) change nothing about whether they are acceptable.
  const { args, problems } = resolveParameters(validation.args ?? {}, new Date());
  const accepted = acceptedArguments(spec);
  for (const [name, value] of Object.entries(args)) {
    const rule = accepted[name];
    if (!rule) {
      const suggestions = closestNames(name, Object.keys(accepted));
      const hint = suggestions.length > 0 ? `; did you mean \`${suggestions[0]}\`?` : '';
      problems.push(`unknown argument \`${name}\` for ${spec.name}${hint}`);
      continue;
    }
    if (value === undefined || (value === null && spec.required?.includes(name))) continue;
    if (problems.some((problem) => problem.startsWith(`\`${name}\`: \`$PARAMETER\``))) continue;
    const problem = rule(value);
    if (problem) problems.push(`\`${name}\` ${problem}`);
  }
  for (const name of spec.required ?? []) {
    if (args[name] === undefined || args[name] === null) problems.push(`\`${name}\` is required`);
  }
  if (problems.length === 0 && spec.crossProblems) problems.push(...spec.crossProblems(args));
  if (columns && problems.length === 0) problems.push(...missingColumnProblems(spec, args, columns));
  return problems;
}

function missingColumnProblems(
  spec: ExpectationSpec,
  args: Record<string, unknown>,
  columns: string[],
): string[] {
  const problems: string[] = [];
  for (const name of spec.columnArgs ?? []) {
    const value = args[name];
    const referenced = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as string[]) : [];
    for (const column of referenced) {
      if (findColumn(columns, column) !== undefined) continue;
      const suggestions = closestNames(column, columns);
      const shown = columns.length > 20 ? `${columns.slice(0, 20).join(', ')}, …` : columns.join(', ');
      const hint = suggestions.length > 0 ? `; did you mean \`${suggestions[0]}\`?` : ` (columns: ${shown})`;
      problems.push(`column \`${column}\` does not exist${hint}`);
    }
  }
  return problems;
}

/** The column as the engine spells it: exact, else the only case-insensitive match (SQL folds case). */
export function findColumn(columns: string[], name: string): string | undefined {
  if (columns.includes(name)) return name;
  const folded = columns.filter((column) => column.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/** The candidates nearest to a misspelling (a typo or two away), for "did you mean". */
export function closestNames(name: string, candidates: string[], limit = 2): string[] {
  const budget = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  const scored = candidates
    .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= budget);
  const best = Math.min(...scored.map(({ distance }) => distance));
  return scored
    .filter(({ distance }) => distance === best)
    .map(({ candidate }) => candidate)
    .sort()
    .slice(0, limit);
}
