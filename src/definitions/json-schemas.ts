import { z } from 'zod';
import { DOCUMENT_KINDS, documentSchemas, projectDocumentSchema, writtenAs } from './document-schemas.ts';

/** A JSON Schema document (draft 2020-12), as plain JSON. */
export type JsonSchema = Record<string, unknown>;

/** The schema of `tessera.yaml`. */
export const PROJECT_JSON_SCHEMA_FILE = 'tessera.schema.json';
/** The schema of any catalog document, chosen by its `kind`: for files that mix kinds. */
export const DOCUMENT_JSON_SCHEMA_FILE = 'tessera-document.schema.json';
/** Where the catalog repos `tessera init` writes keep the schemas their YAML files name. */
export const JSON_SCHEMA_FOLDER = 'json-schemas';

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * The JSON Schemas of what users write, by file name: one per `kind` (`table.schema.json`, …),
 * `tessera-document.schema.json` dispatching on `kind`, and `tessera.schema.json`. Built from the
 * loader's own zod schemas, so an editor accepts what `tessera validate` accepts, except for what
 * only the loader can check (cron fields, cross-references, names that must exist).
 */
export function buildJsonSchemas(): Record<string, JsonSchema> {
  const kinds = Object.fromEntries(DOCUMENT_KINDS.map((kind) => [kind, toJsonSchema(documentSchemas[kind])]));
  const files: Record<string, JsonSchema> = {};
  for (const kind of DOCUMENT_KINDS) files[`${kind}.schema.json`] = kinds[kind]!;
  files[DOCUMENT_JSON_SCHEMA_FILE] = {
    $schema: DRAFT_2020_12,
    title: 'Tessera catalog document',
    description: `A document of a catalog repo; its \`kind\` (${DOCUMENT_KINDS.join(', ')}) says which keys it takes. A file may hold several, separated by \`---\`.`,
    type: 'object',
    required: ['kind'],
    properties: { kind: { enum: DOCUMENT_KINDS } },
    // if/then rather than oneOf: a mistake is reported against the one kind the document names.
    allOf: DOCUMENT_KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/$defs/${kind}` },
    })),
    $defs: Object.fromEntries(
      DOCUMENT_KINDS.map((kind) => {
        const { $schema: _draft, ...schema } = kinds[kind]!;
        return [kind, schema];
      }),
    ),
  };
  files[PROJECT_JSON_SCHEMA_FILE] = toJsonSchema(projectDocumentSchema);
  return files;
}

function toJsonSchema(schema: z.core.$ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    // Defaults make keys optional to write; transforms describe their input.
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      const written = writtenAs.get(zodSchema);
      if (written) {
        const { $schema: _draft, ...schemaOfWritten } = toJsonSchema(written);
        Object.assign(jsonSchema, schemaOfWritten);
      }
      // zod bounds every integer by the largest safe one: noise in an editor's hover.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  }) as JsonSchema;
}
