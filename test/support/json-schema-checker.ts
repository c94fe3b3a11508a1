import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { buildJsonSchemas } from '../../src/definitions/json-schemas.ts';

/**
 * Checks YAML text against the exported JSON Schemas with a real validator (ajv, strict: a keyword
 * ajv does not know fails the compile, so the schemas stay standard).
 * Returns one line per problem (`document N: /path message`), empty when every document passes.
 */
export type JsonSchemaCheck = (schemaFile: string, yamlText: string) => string[];

/**
 * `draft-07` reads the same schemas as a draft-07 validator would, which is what VS Code's YAML
 * extension implements: the schemas must mean the same to it (no keyword only later drafts know).
 */
export function jsonSchemaChecker(draft: '2020-12' | 'draft-07' = '2020-12'): JsonSchemaCheck {
  const options = { allErrors: true, strict: true, allowUnionTypes: true };
  const ajv = draft === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  const validators = new Map(
    Object.entries(buildJsonSchemas()).map(([file, schema]) => {
      const { $schema, ...rest } = schema;
      return [file, ajv.compile(draft === '2020-12' ? { $schema, ...rest } : rest)];
    }),
  );
  return (schemaFile, yamlText) => {
    const validate = validators.get(schemaFile);
    if (!validate)
      throw new Error(`no exported schema ${schemaFile}; there are ${[...validators.keys()].join(', ')}`);
    return parseAllDocuments(yamlText).flatMap((document, index) => {
      if (document.errors.length > 0)
        throw new Error(`document ${index + 1}: ${document.errors[0]!.message}`);
      if (validate(document.toJS())) return [];
      return (validate.errors ?? []).map(
        (error) =>
          `document ${index + 1}: ${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`,
      );
    });
  };
}
