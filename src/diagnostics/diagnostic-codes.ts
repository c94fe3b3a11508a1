/**
 * Every code `tessera validate` (and `plan`) can report, with what it means and how to fix it: the
 * source of the user reference's diagnostics table (docs/reference.md). A new code belongs here
 * the day it is introduced (`test/diagnostics/diagnostic-codes.test.ts` looks for codes missing).
 */
export interface DiagnosticCodeDoc {
  /** What the code says is wrong. */
  meaning: string;
  /** What to do about it. */
  fix: string;
}

export const DIAGNOSTIC_CODES: Readonly<Record<string, DiagnosticCodeDoc>> = {
  'yaml-parse': {
    meaning: 'a YAML file is not valid YAML',
    fix: 'correct the syntax at the position given (indentation, a missing `:` or quote)',
  },
  'invalid-document': {
    meaning: 'a YAML document is not a mapping of keys, or tessera.yaml is missing or malformed',
    fix: 'write the document as `key: value` pairs starting with `kind:`',
  },
  'missing-kind': {
    meaning: 'a document has no `kind:`',
    fix: 'add `kind: table|task|owner|role|principal`',
  },
  'unknown-kind': {
    meaning: 'a document has a `kind:` Tessera does not know',
    fix: 'use one of table, task, owner, role, principal (did-you-mean is in the message)',
  },
  'unknown-key': {
    meaning: 'a key that the document kind does not take (often a typo)',
    fix: 'remove it or spell it as the message suggests; docs/reference.md lists every key',
  },
  'unexpected-key': {
    meaning: 'a key that does not belong where it is written',
    fix: 'move it to the level the message names, or remove it',
  },
  'missing-key': { meaning: 'a required key is absent', fix: 'add the key the message names' },
  'invalid-type': {
    meaning: 'a value of the wrong type (a list where text is expected, say)',
    fix: 'write the value as the type the message names',
  },
  'invalid-value': {
    meaning: 'a value outside what the key accepts',
    fix: 'use one of the values or the form the message lists',
  },
  'invalid-name': {
    meaning: 'a name that breaks the naming rules',
    fix: 'tables are `namespace.name` in lower case; other names are lower-case letters, digits, `_` and `-`',
  },
  'duplicate-name': {
    meaning: 'two documents of the same kind share a name',
    fix: 'rename or remove one; the message gives both locations',
  },
  'invalid-schedule': {
    meaning: 'a schedule that is not a cron expression, macro, `{ every: … }` or `{ on: source_change }`',
    fix: 'write one of the forms the message lists',
  },
  'schedule-on-projection': {
    meaning: 'a projection has a schedule; projections run when what they read is published',
    fix: 'remove the schedule (schedule the ingestion it reads instead)',
  },
  'invalid-validation': {
    meaning: 'a validation with an unknown expectation or wrong arguments',
    fix: 'use an expectation and arguments from docs/reference.md (Validations)',
  },
  'missing-file': {
    meaning: 'a referenced file (SQL, schema) does not exist',
    fix: 'create the file or correct the path, relative to the repo root',
  },
  'missing-env': {
    meaning: 'a `${VARIABLE}` used in the repo is not set in the environment',
    fix: 'export the variable before running tessera (a warning in dev mode where a default exists)',
  },
  'plain-secret': {
    meaning: 'a secret (password, key, webhook URL) is written in the repo as plain text',
    fix: 'write `${VARIABLE}` and set the variable in the environment',
  },
  'unsupported-backend': {
    meaning: 'a catalog, storage or engine URL names something Tessera cannot open',
    fix: 'use sqlite:, postgres:// for the catalog, file: or s3:// for storage, duckdb for the engine',
  },
  'unknown-profile': {
    meaning: 'governance names a profile Tessera does not have',
    fix: 'use `hipaa-safe-harbor` or remove the profile',
  },
  'missing-hash-key': {
    meaning: 'HASH masks need `governance.hash_key` outside dev mode',
    fix: 'set `governance.hash_key: ${TESSERA_HASH_KEY}` and export the variable',
  },
  'proto-parse': {
    meaning: 'a .proto file does not parse',
    fix: 'correct the protobuf syntax at the position given',
  },
  'proto-import': {
    meaning: 'a .proto file imports a file that cannot be found',
    fix: 'correct the import path (relative to schemas/) or add the file; `tessera/options.proto` is built in',
  },
  'invalid-schema-ref': {
    meaning: "a table's `schema:` is not `path.proto#package.Message`",
    fix: 'write the file and the fully qualified message, e.g. `schemas/clinical.proto#clinical.Patient`',
  },
  'unknown-message': {
    meaning: 'the message a table names is not in its .proto file',
    fix: 'use a message the file declares (did-you-mean is in the message)',
  },
  'unmapped-type': {
    meaning: 'a schema field of a protobuf type Tessera does not store',
    fix: 'use a supported type (docs/reference.md, Schema types), or a string with `decimal`',
  },
  'invalid-option': {
    meaning: 'a `(tessera.field)` annotation with an unknown key or a wrong value',
    fix: 'use primary_key, sensitivity, mask, allowed or decimal as docs/reference.md shows',
  },
  'mask-without-sensitivity': {
    meaning: 'a field has a mask but no sensitivity, so nobody would see it masked',
    fix: 'add `sensitivity: PHI|PII|CONFIDENTIAL` beside the mask',
  },
  'mask-type-mismatch': {
    meaning: "a mask that cannot apply to the field's type (DATE_YEAR on text, say)",
    fix: 'choose a mask for that type (docs/reference.md, Masks)',
  },
  'missing-owner': {
    meaning: 'a table names an owner that is not declared',
    fix: 'declare the owner under owners/ or fix the name',
  },
  'missing-schema': {
    meaning: 'an ingested table has no schema to conform its source to',
    fix: 'give the table `schema: file.proto#Message`',
  },
  'missing-primary-key': {
    meaning: 'a feature that needs a primary key (e.g. a uniqueness check) on a schema without one',
    fix: 'mark a field `[(tessera.field) = { primary_key: true }]`',
  },
  'unknown-table': {
    meaning: 'a task, role, subscription or SQL names a table that is not declared',
    fix: 'declare the table or fix its name (did-you-mean is in the message)',
  },
  'unknown-column': {
    meaning: 'a role, validation or option names a column the table does not have',
    fix: "use a column of the table's schema (did-you-mean is in the message)",
  },
  'unknown-dependency': {
    meaning: 'a task depends on a task that is not declared',
    fix: 'declare the task or fix its name',
  },
  'duplicate-producer': {
    meaning: 'two tasks write the same table',
    fix: 'give each table one producing task',
  },
  cycle: {
    meaning: "tasks read each other's tables in a loop, so none could run first",
    fix: 'break the loop the message lists',
  },
  'unknown-subscriber': {
    meaning: "a table's subscriber is not a declared owner",
    fix: 'declare the owner or fix the name',
  },
  'unknown-principal': {
    meaning: "a role's member names a principal that is not declared",
    fix: 'declare it with `kind: principal` or fix the name',
  },
  'unknown-group': {
    meaning: "a role's member names a group no principal belongs to",
    fix: "add the group to a principal's `groups` or fix the name",
  },
  'invalid-member': {
    meaning: "a role member that is not `group:NAME` or a principal's name",
    fix: "write `group:NAME` or the principal's name",
  },
  'sql-parse': {
    meaning: "a projection's SQL does not parse, or is not one SELECT",
    fix: 'correct the SQL at the position given; a projection is one SELECT (CTEs allowed)',
  },
  'unknown-function': {
    meaning: "a projection's SQL calls a function the engine does not have",
    fix: "use the function the message suggests, or one from the engine's documentation",
  },
  'sql-type': {
    meaning: "a projection's SQL passes a value of a type the function or operator does not take",
    fix: 'cast the argument, e.g. CAST(x AS VARCHAR), as the message shows',
  },
  'sql-bind': {
    meaning: "a projection's SQL does not bind against its upstream tables' schemas for another reason",
    fix: "correct the SQL at the position given (the engine's words follow the code)",
  },
  'non-portable-sql': {
    meaning: "with a PostgreSQL engine, a projection's SQL uses a construct outside the portable subset",
    fix: 'write it as the message says, within the subset docs/engines.md lists (functions and syntax that mean the same on DuckDB and PostgreSQL)',
  },
  'row-filter-cycle': {
    meaning: "row filters refer to each other's tables in a loop",
    fix: 'write one of the filters without the subquery that closes the loop',
  },
  'phi-without-mask': {
    meaning: 'hipaa-safe-harbor: a PHI field has no mask',
    fix: 'add a mask (HASH, REDACT, NULLIFY, DATE_YEAR, ZIP3, AGE_90_PLUS…)',
  },
  'safe-harbor-identifier': {
    meaning: 'hipaa-safe-harbor: a field named like one of the 18 identifiers is not marked PHI',
    fix: 'mark it `sensitivity: PHI` with a mask, or rename it if it is not such an identifier',
  },
  'mask-not-allowed': {
    meaning: "hipaa-safe-harbor: a mask that does not de-identify the field's kind of identifier",
    fix: 'use a mask the message lists for it',
  },
  'row-filter-not-inherited': {
    meaning: 'a derived table whose rows come from a row-filtered table cannot follow that filter by column',
    fix: 'declare a row filter on the derived table for the role (the message says which)',
  },
  'base-unreadable': {
    meaning: '`plan --base REV`: a file of the base revision cannot be read',
    fix: 'check the revision; the message names the file',
  },
};
