// A catalog repo at the scale of a company, generated: `chains` ingestion tables, each feeding a
// chain of four projections. chains = 1,000 gives 5,000 tables and 5,000 tasks. Deterministic (the
// same files for the same arguments) and fast: plain strings written with node:fs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Projections per chain: each reads the table before it. */
export const PROJECTIONS_PER_CHAIN = 4;
/** Chains per owner, per .proto file and per YAML file. */
const CHAINS_PER_DOMAIN = 50;
/** The columns every projection passes on (each one a column-lineage edge). */
export const PROJECTED_COLUMNS = ['order_id', 'region', 'amount'] as const;

export interface CompanyRepoShape {
  tables: number;
  tasks: number;
  /** Lineage edges `apply` stores: per projection, one table-level edge and one per projected column. */
  lineageEdges: number;
  files: number;
}

/** The shape a repo of `chains` chains has, without writing it. */
export function companyRepoShape(chains: number): CompanyRepoShape {
  const perChain = 1 + PROJECTIONS_PER_CHAIN;
  const domains = Math.ceil(chains / CHAINS_PER_DOMAIN);
  return {
    tables: chains * perChain,
    tasks: chains * perChain,
    lineageEdges: chains * PROJECTIONS_PER_CHAIN * (1 + PROJECTED_COLUMNS.length),
    // tessera.yaml, then per domain: owner, proto, tables, tasks; one SQL file per projection.
    files: 1 + domains * 4 + chains * PROJECTIONS_PER_CHAIN,
  };
}

/**
 * The repo's files, by path relative to its root. A `variant` other than 0 adds a comment to every
 * SQL file: the same repo with different SQL text, so nothing parsed for another variant is reused.
 */
export function companyRepoFiles(chains: number, name = 'company', variant = 0): Map<string, string> {
  const files = new Map<string, string>();
  files.set(
    'tessera.yaml',
    `name: ${name}\ncatalog: sqlite:.tessera/catalog.db\nstorage: file:.tessera/warehouse\n`,
  );
  for (let first = 0; first < chains; first += CHAINS_PER_DOMAIN) {
    const domain = `d${pad(first / CHAINS_PER_DOMAIN, 3)}`;
    const owner = `team_${domain}`;
    const messages: string[] = [];
    const tables: string[] = [];
    const tasks: string[] = [];
    for (let chain = first; chain < Math.min(chains, first + CHAINS_PER_DOMAIN); chain++) {
      const base = `c${pad(chain, 5)}`;
      const message = `Orders${pad(chain, 5)}`;
      messages.push(`// Orders of chain ${chain}.
message ${message} {
  string order_id = 1 [(tessera.field) = { primary_key: true }];
  string region = 2;
  double amount = 3;
  string customer_email = 4 [(tessera.field) = { sensitivity: PII, mask: EMAIL_DOMAIN }];
}
`);
      const raw = `raw_${domain}.${base}_orders`;
      tables.push(`kind: table
name: ${raw}
owner: ${owner}
schema: schemas/${domain}.proto#${domain}.${message}
`);
      tasks.push(`kind: task
name: ingest_${base}
type: ingestion
target: ${raw}
source: { type: csv, uri: data/${base}.csv }
schedule: '@daily'
`);
      let upstream = raw;
      for (let step = 1; step <= PROJECTIONS_PER_CHAIN; step++) {
        const target = `mart_${domain}.${base}_step${step}`;
        const sqlFile = `sql/${domain}/${base}_step${step}.sql`;
        tables.push(`kind: table
name: ${target}
owner: ${owner}
description: Step ${step} of chain ${chain}.
`);
        tasks.push(`kind: task
name: build_${base}_step${step}
type: projection
target: ${target}
sql: ${sqlFile}
`);
        files.set(
          sqlFile,
          `${variant ? `-- variant ${variant}\n` : ''}select ${PROJECTED_COLUMNS.join(', ')}\nfrom ${upstream}\nwhere amount >= ${step}\n`,
        );
        upstream = target;
      }
    }
    files.set(`owners/${domain}.yaml`, `kind: owner\nname: ${owner}\nmembers: [${owner}@example.org]\n`);
    files.set(
      `schemas/${domain}.proto`,
      `syntax = "proto3";\npackage ${domain};\nimport "tessera/options.proto";\n\n${messages.join('\n')}`,
    );
    files.set(`tables/${domain}.yaml`, tables.join('---\n'));
    files.set(`tasks/${domain}.yaml`, tasks.join('---\n'));
  }
  return files;
}

/** Write the repo of `chains` chains into `root` (created if missing); see `companyRepoFiles` for `variant`. */
export async function writeCompanyRepo(root: string, chains: number, variant = 0): Promise<CompanyRepoShape> {
  const files = companyRepoFiles(chains, 'company', variant);
  const folders = new Set([...files.keys()].map((path) => dirname(join(root, path))));
  for (const folder of folders) await mkdir(folder, { recursive: true });
  await Promise.all([...files].map(([path, text]) => writeFile(join(root, path), text)));
  return companyRepoShape(chains);
}

/** The file `changeOneFile` edits: the tables of the first domain. */
export const CHANGED_FILE = 'tables/d000.yaml';

/** Edit one table's description in one YAML file, as a user's next commit would. */
export async function changeOneFile(root: string, edit: number): Promise<void> {
  const path = join(root, CHANGED_FILE);
  const text = await readFile(path, 'utf8');
  await writeFile(
    path,
    text.replace(/^description: Step 1 of chain 0\..*$/m, `description: Step 1 of chain 0. Edit ${edit}.`),
  );
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
