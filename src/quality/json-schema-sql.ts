import { duckdbDialect } from '../engines/dialect.ts';
import { quoteLiteral } from '../engines/engine.ts';
import { CheckCompileError } from './check-errors.ts';

/**
 * A subset of JSON Schema compiled to one SQL predicate over DuckDB's JSON functions, so
 * `expect_column_values_to_match_json_schema` runs inside the fused scan like any other map
 * expectation. Supported: type, enum, const, properties, required, additionalProperties (boolean),
 * minProperties/maxProperties, items (one schema), contains, minItems/maxItems, uniqueItems,
 * minimum/maximum, exclusiveMinimum/exclusiveMaximum (number or draft-4 boolean), multipleOf,
 * minLength/maxLength, pattern (RE2), allOf/anyOf/oneOf/not, if/then/else. Annotations (title,
 * description, format, default, examples, $schema, $id, $comment, $defs) are ignored. Anything
 * else ($ref, patternProperties, dependencies, …) is reported as unsupported rather than
 * silently passed.
 */

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'id',
  '$comment',
  '$defs',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'format',
  'readOnly',
  'writeOnly',
  'deprecated',
  'contentMediaType',
  'contentEncoding',
]);

const SUPPORTED = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'contains',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
]);

/** Keywords of the schema (at any depth) this compiler cannot evaluate. */
export function jsonSchemaProblems(schema: unknown): string[] {
  const unsupported = new Set<string>();
  const visit = (node: unknown) => {
    if (typeof node === 'boolean') return;
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      unsupported.add('(a schema that is not an object)');
      return;
    }
    for (const [keyword, value] of Object.entries(node)) {
      if (ANNOTATIONS.has(keyword)) continue;
      if (!SUPPORTED.has(keyword)) unsupported.add(keyword);
      else if (keyword === 'properties') Object.values(value as object).forEach(visit);
      else if (['allOf', 'anyOf', 'oneOf'].includes(keyword)) (value as unknown[]).forEach(visit);
      else if (['items', 'contains', 'not', 'if', 'then', 'else'].includes(keyword)) {
        if (Array.isArray(value)) unsupported.add(`${keyword} (as a list)`);
        else visit(value);
      } else if (keyword === 'additionalProperties' && typeof value !== 'boolean') {
        unsupported.add('additionalProperties (as a schema)');
      }
    }
  };
  visit(schema);
  return [...unsupported].map((keyword) => `\`json_schema\` keyword \`${keyword}\` is not supported`);
}

const JSON_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE')";

/** The SQL predicate: TRUE when the JSON text in `document` satisfies `schema`. */
export function jsonSchemaPredicate(schema: unknown, document: string): string {
  const problems = jsonSchemaProblems(schema);
  if (problems.length > 0) throw new CheckCompileError(problems.join('; '));
  return new JsonSchemaCompiler().compile(schema, document, '$');
}

class JsonSchemaCompiler {
  private lambdas = 0;

  compile(schema: unknown, document: string, path: string): string {
    if (schema === true) return 'TRUE';
    if (schema === false) return 'FALSE';
    const node = schema as Record<string, unknown>;
    const at = quoteLiteral(path);
    const type = `json_type(${document}, ${at})`;
    const parts: string[] = [];
    // Each keyword constrains only instances of the type it is about; others pass it. CASE, not
    // OR: only CASE keeps the engine from evaluating (and failing on) the other branch.
    const when = (jsonTypes: string, predicate: string) =>
      `CASE WHEN ${type} IN ${jsonTypes} THEN coalesce(${predicate}, FALSE) ELSE TRUE END`;
    const number = `TRY_CAST(json_extract(${document}, ${at}) AS DOUBLE)`;
    const string = `json_extract_string(${document}, ${at})`;
    const child = (key: string) => `${path}.${quoteKey(key)}`;

    if (node.type !== undefined) {
      const types = Array.isArray(node.type) ? (node.type as string[]) : [node.type as string];
      parts.push(`(${types.map((name) => typeTest(name, type, number)).join(' OR ')})`);
    }
    if (node.enum !== undefined)
      parts.push(
        `json_extract(${document}, ${at})::VARCHAR IN (${(node.enum as unknown[]).map(jsonText).join(', ')})`,
      );
    if (node.const !== undefined)
      parts.push(`json_extract(${document}, ${at})::VARCHAR = ${jsonText(node.const)}`);

    const objectParts: string[] = [];
    for (const key of (node.required as string[] | undefined) ?? [])
      objectParts.push(`json_exists(${document}, ${quoteLiteral(child(key))})`);
    for (const [key, sub] of Object.entries((node.properties as Record<string, unknown> | undefined) ?? {})) {
      objectParts.push(
        `(NOT json_exists(${document}, ${quoteLiteral(child(key))}) OR ${this.compile(sub, document, child(key))})`,
      );
    }
    if (node.additionalProperties === false) {
      const known = Object.keys((node.properties as object | undefined) ?? {})
        .map(quoteLiteral)
        .join(', ');
      objectParts.push(`list_has_all([${known}]::VARCHAR[], json_keys(${document}, ${at}))`);
    }
    if (typeof node.minProperties === 'number')
      objectParts.push(`len(json_keys(${document}, ${at})) >= ${node.minProperties}`);
    if (typeof node.maxProperties === 'number')
      objectParts.push(`len(json_keys(${document}, ${at})) <= ${node.maxProperties}`);
    if (objectParts.length > 0) parts.push(when("('OBJECT')", objectParts.join(' AND ')));

    const arrayParts: string[] = [];
    const elements = `json_extract(${document}, ${quoteLiteral(`${path}[*]`)})`;
    if (node.items !== undefined)
      arrayParts.push(`coalesce(list_bool_and(${this.eachElement(elements, node.items)}), TRUE)`);
    if (node.contains !== undefined)
      arrayParts.push(`coalesce(list_bool_or(${this.eachElement(elements, node.contains)}), FALSE)`);
    if (typeof node.minItems === 'number')
      arrayParts.push(`json_array_length(${document}, ${at}) >= ${node.minItems}`);
    if (typeof node.maxItems === 'number')
      arrayParts.push(`json_array_length(${document}, ${at}) <= ${node.maxItems}`);
    if (node.uniqueItems === true)
      arrayParts.push(`len(list_distinct(${elements})) = json_array_length(${document}, ${at})`);
    if (arrayParts.length > 0) parts.push(when("('ARRAY')", arrayParts.join(' AND ')));

    const numberParts: string[] = [];
    const exclusiveMinimum = node.exclusiveMinimum === true ? node.minimum : node.exclusiveMinimum;
    const exclusiveMaximum = node.exclusiveMaximum === true ? node.maximum : node.exclusiveMaximum;
    if (typeof node.minimum === 'number' && node.exclusiveMinimum !== true)
      numberParts.push(`${number} >= ${node.minimum}`);
    if (typeof node.maximum === 'number' && node.exclusiveMaximum !== true)
      numberParts.push(`${number} <= ${node.maximum}`);
    if (typeof exclusiveMinimum === 'number') numberParts.push(`${number} > ${exclusiveMinimum}`);
    if (typeof exclusiveMaximum === 'number') numberParts.push(`${number} < ${exclusiveMaximum}`);
    if (typeof node.multipleOf === 'number')
      numberParts.push(`abs(${number} / ${node.multipleOf} - round(${number} / ${node.multipleOf})) < 1e-9`);
    if (numberParts.length > 0) parts.push(when(JSON_NUMBER_TYPES, numberParts.join(' AND ')));

    const stringParts: string[] = [];
    if (typeof node.minLength === 'number') stringParts.push(`length(${string}) >= ${node.minLength}`);
    if (typeof node.maxLength === 'number') stringParts.push(`length(${string}) <= ${node.maxLength}`);
    if (typeof node.pattern === 'string') stringParts.push(duckdbDialect.regexpMatches(string, node.pattern));
    if (stringParts.length > 0) parts.push(when("('VARCHAR')", stringParts.join(' AND ')));

    const compileAll = (list: unknown) =>
      (list as unknown[]).map((sub) => `coalesce(${this.compile(sub, document, path)}, FALSE)`);
    if (node.allOf !== undefined) parts.push(`(${compileAll(node.allOf).join(' AND ')})`);
    if (node.anyOf !== undefined) parts.push(`(${compileAll(node.anyOf).join(' OR ')})`);
    if (node.oneOf !== undefined)
      parts.push(
        `(${compileAll(node.oneOf)
          .map((sub) => `CAST(${sub} AS INTEGER)`)
          .join(' + ')}) = 1`,
      );
    if (node.not !== undefined) parts.push(`NOT coalesce(${this.compile(node.not, document, path)}, FALSE)`);
    if (node.if !== undefined) {
      const condition = `coalesce(${this.compile(node.if, document, path)}, FALSE)`;
      if (node.then !== undefined)
        parts.push(`(NOT ${condition} OR coalesce(${this.compile(node.then, document, path)}, FALSE))`);
      if (node.else !== undefined)
        parts.push(`(${condition} OR coalesce(${this.compile(node.else, document, path)}, FALSE))`);
    }
    return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
  }

  /** The predicate applied to every element of a JSON array, as a list of booleans. */
  private eachElement(elements: string, schema: unknown): string {
    const name = `element_${this.lambdas++}`;
    return `list_transform(${elements}, lambda ${name}: coalesce(${this.compile(schema, name, '$')}, FALSE))`;
  }
}

function typeTest(name: string, type: string, number: string): string {
  switch (name) {
    case 'object':
      return `${type} = 'OBJECT'`;
    case 'array':
      return `${type} = 'ARRAY'`;
    case 'string':
      return `${type} = 'VARCHAR'`;
    case 'boolean':
      return `${type} = 'BOOLEAN'`;
    case 'null':
      return `${type} = 'NULL'`;
    case 'number':
      return `${type} IN ${JSON_NUMBER_TYPES}`;
    case 'integer':
      // JSON Schema counts 1.0 as an integer.
      return `(${type} IN ('UBIGINT', 'BIGINT', 'HUGEINT') OR (${type} = 'DOUBLE' AND ${number} = floor(${number})))`;
    default:
      throw new CheckCompileError(`\`json_schema\` type \`${name}\` is not a JSON Schema type`);
  }
}

/** A JSON value as DuckDB prints extracted JSON: minified text. */
function jsonText(value: unknown): string {
  return quoteLiteral(JSON.stringify(value));
}

function quoteKey(key: string): string {
  if (key.includes('"') || key.includes('\\')) {
    throw new CheckCompileError(
      `\`json_schema\` property name ${JSON.stringify(key)} contains a quote or backslash, which is not supported`,
    );
  }
  return `"${key}"`;
}
