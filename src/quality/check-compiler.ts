import type { ValidationDef } from '../model/index.ts';
import { CheckCompileError } from './check-errors.ts';
import { EXPECTATIONS } from './expectation-catalog.ts';
import type { CheckEvaluation, CompileContext, RelationColumn } from './expectation-spec.ts';
import { rowConditionSql } from './sql-text.ts';
import { closestNames, findColumn, validationProblems } from './validation-problems.ts';

/**
 * A validation compiled against the relation's columns: its arguments are checked first, then its
 * family turns it into aggregates for the fused scan and follow-up queries. Anything that cannot
 * be evaluated throws `CheckCompileError` with a message for the table's owner.
 */
export function compileValidation(validation: ValidationDef, columns: RelationColumn[]): CheckEvaluation {
  const names = columns.map((column) => column.name);
  const problems = validationProblems(validation, names);
  if (problems.length > 0) throw new CheckCompileError(problems.join('; '));
  const spec = EXPECTATIONS.get(validation.expectation)!;
  const args = validation.args ?? {};
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
