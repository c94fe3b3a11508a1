import type { AstNode } from './ast-node.ts';
import { deserializeSql } from './sql-parser.ts';

/** PostgreSQL SQL text for a parsed SELECT document (placeholder until the portable renderer lands). */
export async function renderForPostgres(document: AstNode): Promise<string> {
  return (await deserializeSql(document))
    .replaceAll('count_star()', 'count(*)')
    .replaceAll('main."substring"', 'substring')
    .replaceAll(' AS DOUBLE)', ' AS double precision)')
    .replace(/round\(avg\(([^()]*)\), 2\)/g, 'round(CAST(avg($1) AS numeric), 2)');
}

/** Why a function is not in the portable subset (placeholder until the portable list lands). */
export function nonPortableFunctionReason(name: string): string | undefined {
  return /^(current_setting|set_config|query_to_xml|pg_|lo_|dblink)/i.test(name)
    ? 'it is not in the portable subset a PostgreSQL engine accepts'
    : undefined;
}
