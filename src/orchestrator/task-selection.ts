import { NotFoundError, UsageError } from '../diagnostics/errors.ts';
import { didYouMean } from '../definitions/name-suggester.ts';
import { matchesTableGlob } from '../definitions/table-glob-matcher.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Definitions } from '../model/index.ts';

/** Which tasks a `run` or `backfill` names. */
export interface RunSelection {
  /** Task names to run; ignored when `all` is set. */
  tasks: string[];
  all?: boolean;
  /**
   * Selectors as dbt writes them (`tessera run --select`): names, globs, `tag:x`, `owner:x`, with
   * `+` before (and upstream) or after (and downstream). Exactly the tasks they match run: nothing
   * downstream is added unless a selector ends in `+`. Default: none.
   */
  select?: string[];
  /** Selectors whose tasks never run, whatever else selected them (`--exclude`). Default: none. */
  exclude?: string[];
  /** Also run everything downstream of `tasks` (default true); selectors say it with `+`. */
  downstream?: boolean;
  trigger?: string;
}

/**
 * The selected tasks plus, unless `downstream` is false, everything downstream of them, in
 * dependency order; then the tasks `select` matches, less those `exclude` matches. With only
 * `exclude`, it removes from every task (as dbt's `--exclude` alone does). Throws `NotFoundError`
 * naming unknown tasks or selectors that match nothing, `UsageError` for a malformed selector or an
 * empty result.
 */
export function selectTasks(definitions: Definitions, graph: TaskGraph, selection: RunSelection): string[] {
  const known = new Set(definitions.tasks.map((task) => task.name));
  const unknown = selection.tasks.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new NotFoundError(
      `unknown task(s): ${unknown.join(', ')} (defined: ${[...known].sort().join(', ')})` +
        (unknown.length === 1 ? didYouMean(unknown[0]!, known) : ''),
    );
  }
  const select = splitSelectors(selection.select ?? []);
  const exclude = splitSelectors(selection.exclude ?? []);
  const onlyExcluding =
    exclude.length > 0 && !selection.all && selection.tasks.length === 0 && select.length === 0;
  const selected = new Set(selection.all || onlyExcluding ? known : selection.tasks);
  if (selection.downstream !== false && !selection.all) {
    for (const name of [...selected])
      for (const downstream of graph.downstreamTasks(name)) selected.add(downstream);
  }
  for (const name of matchSelectors(definitions, graph, '--select', select)) selected.add(name);
  if (exclude.length > 0) {
    const excluded = matchSelectors(definitions, graph, '--exclude', exclude);
    for (const name of excluded) selected.delete(name);
    if (selected.size === 0) {
      throw new UsageError(
        `nothing left to run: --exclude ${exclude.join(' ')} removes every selected task; exclude fewer`,
      );
    }
  }
  return graph.topologicalOrder(selected);
}

/**
 * The selectors in flag values: each value may hold several, separated by spaces or commas (both
 * mean "or": dbt's `a,b` intersection is not supported).
 */
export function splitSelectors(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(/[\s,]+/)).filter((selector) => selector !== '');
}

/**
 * The tasks a list of selectors matches (their union). Each selector is `[+]METHOD[+]` where
 * METHOD is a task or table name (a table stands for the task that produces it), a glob of them
 * (`*` matches any characters, dots included: `clinical.*`), `tag:NAME` (tasks with that tag) or
 * `owner:NAME` (tasks whose target table that owner owns); tag and owner names may be globs too.
 * A leading `+` adds every task upstream of those matched, a trailing `+` every task downstream.
 * A selector that matches nothing is an error, with the closest name when it looks like a typo;
 * every problem of the list is reported at once.
 */
export function matchSelectors(
  definitions: Definitions,
  graph: TaskGraph,
  flag: '--select' | '--exclude',
  selectors: readonly string[],
): Set<string> {
  const matched = new Set<string>();
  const notFound: string[] = [];
  const malformed: string[] = [];
  for (const selector of selectors) {
    const parsed = parseSelector(selector);
    if (typeof parsed === 'string') {
      malformed.push(`${flag} ${selector}: ${parsed}`);
      continue;
    }
    const found = matchMethod(definitions, parsed);
    if (typeof found === 'string') {
      notFound.push(`${flag} ${selector}: ${found}`);
      continue;
    }
    for (const task of found) {
      matched.add(task);
      if (parsed.upstream) for (const upstream of graph.upstreamTasks(task)) matched.add(upstream);
      if (parsed.downstream) for (const downstream of graph.downstreamTasks(task)) matched.add(downstream);
    }
  }
  if (malformed.length > 0) throw new UsageError(malformed.join('; '));
  if (notFound.length > 0) throw new NotFoundError(notFound.join('; '));
  return matched;
}

interface ParsedSelector {
  method: 'name' | 'tag' | 'owner';
  value: string;
  upstream: boolean;
  downstream: boolean;
}

const SELECTOR_HINT =
  'write a task or table name, a glob (`clinical.*`), `tag:NAME` or `owner:NAME`, with `+` before or after for upstream or downstream';

function parseSelector(selector: string): ParsedSelector | string {
  const upstream = selector.startsWith('+');
  const downstream = selector.length > 1 && selector.endsWith('+');
  const body = selector.slice(upstream ? 1 : 0, downstream ? -1 : undefined);
  if (body === '' || body.includes('+')) return `not a selector; ${SELECTOR_HINT}`;
  const colon = body.indexOf(':');
  if (colon < 0) return { method: 'name', value: body, upstream, downstream };
  const method = body.slice(0, colon);
  const value = body.slice(colon + 1);
  if (method !== 'tag' && method !== 'owner')
    return `unknown selector method \`${method}:\`${didYouMean(method, ['tag', 'owner'])}; ${SELECTOR_HINT}`;
  if (value === '')
    return `\`${method}:\` needs a name, e.g. \`${method}:${method === 'tag' ? 'nightly' : 'analytics'}\``;
  return { method, value, upstream, downstream };
}

/** The tasks one selector's method matches, in definition order, or why it matches none. */
function matchMethod(definitions: Definitions, selector: ParsedSelector): string[] | string {
  const { tasks, tables } = definitions;
  const glob = selector.value.includes('*');
  const matches = (candidate: string) => matchesTableGlob(selector.value, candidate);
  if (selector.method === 'tag') {
    const found = tasks.filter((task) => (task.tags ?? []).some(matches)).map((task) => task.name);
    if (found.length > 0) return found;
    const tags = [...new Set(tasks.flatMap((task) => task.tags ?? []))].sort();
    if (tags.length === 0) return 'no task has tags; add `tags: [NAME]` to a task';
    return glob
      ? `matches no tag (tags: ${tags.join(', ')})`
      : `no task has the tag ${selector.value}${didYouMean(selector.value, tags)} (tags: ${tags.join(', ')})`;
  }
  if (selector.method === 'owner') {
    const owners = definitions.owners.map((owner) => owner.name);
    const owned = new Set(tables.filter((table) => matches(table.owner)).map((table) => table.name));
    const found = tasks.filter((task) => owned.has(task.target)).map((task) => task.name);
    if (found.length > 0) return found;
    if (glob) return `matches no owner of a task's table (owners: ${owners.sort().join(', ')})`;
    return owners.includes(selector.value)
      ? `owner ${selector.value} owns no table a task produces`
      : `unknown owner ${selector.value}${didYouMean(selector.value, owners)} (owners: ${owners.sort().join(', ')})`;
  }
  const found = tasks.filter((task) => matches(task.name) || matches(task.target)).map((task) => task.name);
  if (found.length > 0) return found;
  if (glob) return 'matches no task or table name';
  const names = [...tasks.map((task) => task.name), ...tables.map((table) => table.name)];
  const producedBy = tables.some((table) => table.name === selector.value);
  return producedBy
    ? `no task produces table ${selector.value}`
    : `unknown task or table ${selector.value}${didYouMean(selector.value, names)}`;
}
