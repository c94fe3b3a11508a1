import type { ValidationDef } from '../model/index.ts';
import { CheckCompileError } from './check-errors.ts';
import { EXPECTATIONS } from './expectation-catalog.ts';
import type { CheckEvaluation, CompileContext, RelationColumn } from './expectation-spec.ts';
import { rowConditionSql } from './sql-text.ts';
import { resolveParameters } from './suite-parameters.ts';
import { closestNames, findColumn, validationProblems } from './validation-problems.ts';

/**
 * A validation compiled against the relation's columns: its arguments are checked first, then its
 * family turns it into aggregates for the fused scan and follow-up queries. Anything that cannot
 * be evaluated throws `CheckCompileError` with a message for the table's owner. `$PARAMETER`
 * arguments are computed as of `now` first.
 */
export function compileValidation(
  validation: ValidationDef,
  columns: RelationColumn[],
  now: Date = new Date(),
): CheckEvaluation {
  const names = columns.map((column) => column.name);
  const resolved = resolveParameters(validation.args ?? {}, now);
  const args = resolved.args;
  const problems =
    resolved.problems.length > 0 ? resolved.problems : validationProblems({ ...validation, args }, names);
  if (problems.length > 0) throw new CheckCompileError(problems.join('; '));
  const spec = EXPECTATIONS.get(validation.expectation)!;
  const context: CompileContext = {
    columns,
    column(name) {
      const found = findColumn(names, name);
      if (found === undefined) {
        const suggestion = closestNames(name, names)[0];
        throw new CheckCompileError(
          `column \`${name}\` does not exist${suggestion ? `; did you mean \`${suggestion}\`?` : ''} (columns: ${names.join(', ')})`,
        );
      }
      return columns[names.indexOf(found)]!;
    },
    rowCondition: rowConditionSql(args),
    mostly: typeof args.mostly === 'number' ? args.mostly : 1,
  };
  return spec.compile(args, context);
}
