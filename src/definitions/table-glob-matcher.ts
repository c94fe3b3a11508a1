/**
 * Whether a grant pattern covers a table: `*` matches any run of characters (dots included, so
 * `*` alone is every table and `analytics.*` every table of that namespace); other characters
 * match themselves. A pattern without `*` is an exact table name.
 */
export function matchesTableGlob(pattern: string, table: string): boolean {
  if (!pattern.includes('*')) return pattern === table;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(table);
}
