import { quoteIdentifier, quoteLiteral } from '../engines/engine.ts';
import * as rules from './argument-rules.ts';
import { stringExpression, typeFamily } from './column-types.ts';
import type { CheckEvaluation, CompileContext, ExpectationSpec } from './expectation-spec.ts';
import { jsonSchemaPredicate, jsonSchemaProblems } from './json-schema-sql.ts';
import { rowExpectation } from './row-expectation.ts';
import { regexMatchSql } from './sql-text.ts';
import { strftimeProblems } from './strftime-formats.ts';

/**
 * Map expectations on text: regular expressions (RE2, searched anywhere in the value as GE's SQL
 * backends do), LIKE patterns (backslash escapes, as in PostgreSQL), strftime formats, dates,
 * JSON. Non-string columns are refused, as GE refuses them.
 */

/**
 * A map expectation over the non-null values of a string column. Other columns are refused,
 * unless `nonText` is `unexpected`: then every value fails (GE's json_parseable reads a number
 * as "not a JSON document" rather than raising).
 */
function textValuesPassing(
  expectation: string,
  args: Record<string, unknown>,
  context: CompileContext,
  passes: (value: string) => string,
  nonText: 'refused' | 'unexpected' = 'refused',
): CheckEvaluation {
  const column = context.column(args.column as string);
  const identifier = quoteIdentifier(column.name);
  const text = nonText === 'refused' || typeFamily(column.type) === 'string';
  return rowExpectation({
    domain: `${identifier} IS NOT NULL`,
    nonNullColumn: identifier,
    passes: text ? passes(stringExpression(column, expectation)) : 'FALSE',
    rowCondition: context.rowCondition,
    mostly: context.mostly,
    sample: [{ name: column.name, sql: identifier }],
  });
}

const like = (value: string, pattern: string) => `${value} LIKE ${quoteLiteral(pattern)} ESCAPE '\\'`;

/** `match_on: any` (default) needs one pattern to match, `all` needs every one. */
function combine(matches: string[], matchOn: unknown): string {
  return matches.map((match) => `(${match})`).join(matchOn === 'all' ? ' AND ' : ' OR ');
}

// dateutil accepts almost anything that looks like a date. This is the usual subset: ISO 8601 via
// a cast, then common written forms, month first for ambiguous numeric dates as dateutil does.
const DATEUTIL_FORMATS = [
  '%m/%d/%Y',
  '%m/%d/%y',
  '%m-%d-%Y',
  '%Y/%m/%d',
  '%Y%m%d',
  '%m/%d/%Y %H:%M:%S',
  '%m/%d/%Y %H:%M',
  '%m/%d/%Y %I:%M %p',
  '%Y-%m-%d %H:%M:%S%z',
  '%Y-%m-%dT%H:%M:%S%z',
  '%b %d %Y',
  '%b %d, %Y',
  '%B %d %Y',
  '%B %d, %Y',
  '%d %b %Y',
  '%d %B %Y',
  '%d-%b-%Y',
  '%b %d %Y %H:%M:%S',
  '%a, %d %b %Y %H:%M:%S %z',
  '%a %b %d %H:%M:%S %Y',
  '%B %Y',
  '%b %Y',
  '%Y-%m',
  '%H:%M:%S',
  '%H:%M',
];

function dateutilParseable(value: string): string {
  const formats = DATEUTIL_FORMATS.map(quoteLiteral).join(', ');
  return `TRY_CAST(${value} AS TIMESTAMP) IS NOT NULL OR try_strptime(trim(${value}), [${formats}]) IS NOT NULL`;
}

const column = { column: rules.columnName };

function textSpec(
  name: string,
  args: ExpectationSpec['args'],
  required: string[],
  passes: (value: string, args: Record<string, unknown>) => string,
  crossProblems?: ExpectationSpec['crossProblems'],
  nonText: 'refused' | 'unexpected' = 'refused',
): ExpectationSpec {
  return {
    name,
    family: 'column-map',
    args: { ...column, ...args },
    required: ['column', ...required],
    columnArgs: ['column'],
    acceptsMostly: true,
    crossProblems,
    compile: (callArgs, context) =>
      textValuesPassing(name, callArgs, context, (value) => passes(value, callArgs), nonText),
  };
}

const regexList = { regex_list: rules.textList, match_on: rules.oneOf('any', 'all') };
const likeList = { like_pattern_list: rules.textList, match_on: rules.oneOf('any', 'all') };

/** The text expectations, by GE name. */
export const STRING_PATTERN_EXPECTATIONS: ExpectationSpec[] = [
  textSpec('expect_column_values_to_match_regex', { regex: rules.text }, ['regex'], (value, args) =>
    regexMatchSql(value, args.regex as string),
  ),
  textSpec(
    'expect_column_values_to_not_match_regex',
    { regex: rules.text },
    ['regex'],
    (value, args) => `NOT ${regexMatchSql(value, args.regex as string)}`,
  ),
  textSpec('expect_column_values_to_match_regex_list', regexList, ['regex_list'], (value, args) =>
    combine(
      (args.regex_list as string[]).map((regex) => regexMatchSql(value, regex)),
      args.match_on,
    ),
  ),
  textSpec(
    'expect_column_values_to_not_match_regex_list',
    { regex_list: rules.textList },
    ['regex_list'],
    (value, args) =>
      `NOT (${combine(
        (args.regex_list as string[]).map((regex) => regexMatchSql(value, regex)),
        'any',
      )})`,
  ),
  textSpec(
    'expect_column_values_to_match_like_pattern',
    { like_pattern: rules.text },
    ['like_pattern'],
    (value, args) => like(value, args.like_pattern as string),
  ),
  textSpec(
    'expect_column_values_to_not_match_like_pattern',
    { like_pattern: rules.text },
    ['like_pattern'],
    (value, args) => `NOT (${like(value, args.like_pattern as string)})`,
  ),
  textSpec(
    'expect_column_values_to_match_like_pattern_list',
    likeList,
    ['like_pattern_list'],
    (value, args) =>
      combine(
        (args.like_pattern_list as string[]).map((pattern) => like(value, pattern)),
        args.match_on,
      ),
  ),
  textSpec(
    'expect_column_values_to_not_match_like_pattern_list',
    { like_pattern_list: rules.textList },
    ['like_pattern_list'],
    (value, args) =>
      `NOT (${combine(
        (args.like_pattern_list as string[]).map((pattern) => like(value, pattern)),
        'any',
      )})`,
  ),
  textSpec(
    'expect_column_values_to_match_strftime_format',
    { strftime_format: rules.nonEmptyText },
    ['strftime_format'],
    (value, args) => `try_strptime(${value}, ${quoteLiteral(args.strftime_format as string)}) IS NOT NULL`,
    (args) => (typeof args.strftime_format === 'string' ? strftimeProblems(args.strftime_format) : []),
  ),
  textSpec('expect_column_values_to_be_dateutil_parseable', {}, [], (value) => dateutilParseable(value)),
  textSpec(
    'expect_column_values_to_be_json_parseable',
    {},
    [],
    (value) => `json_valid(${value})`,
    undefined,
    'unexpected',
  ),
  textSpec(
    'expect_column_values_to_match_json_schema',
    { json_schema: rules.jsonObject },
    ['json_schema'],
    // CASE, not AND: JSON functions raise on malformed text, and only CASE promises not to reach them.
    (value, args) =>
      `CASE WHEN json_valid(${value}) THEN ${jsonSchemaPredicate(args.json_schema, value)} ELSE FALSE END`,
    (args) => (args.json_schema !== undefined ? jsonSchemaProblems(args.json_schema) : []),
  ),
];
