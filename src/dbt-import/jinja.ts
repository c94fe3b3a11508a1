import nunjucks from 'nunjucks';

/**
 * dbt's Jinja, rendered with nunjucks for the subset whose meaning is plain: `ref`, `source`,
 * `config`, `var`, `is_incremental`, `this`, `set`, `for`, `if`, comments and whitespace control.
 * Anything else (a project macro, `adapter.*`, `dbt_utils.*`, an unknown tag or filter) fails the
 * render with the line it is on, so the model is reported rather than guessed.
 */

export interface JinjaContext {
  /** `ref('m')` → the Tessera table name, or undefined when no model or seed is called `m`. */
  ref(name: string): string | undefined;
  /** `source('s', 't')` → the Tessera table name, or undefined when the source is not declared. */
  source(sourceName: string, table: string): string | undefined;
  /** dbt_project.yml `vars`. */
  vars: Record<string, unknown>;
  /** The model's own table (`{{ this }}`). */
  self: string;
}

export interface RenderResult {
  sql: string;
  /** Keyword arguments of every `config(...)` call, merged in order. */
  config: Record<string, unknown>;
  /** Models and seeds named by `ref`. */
  refs: string[];
  usedIsIncremental: boolean;
}

/** A render that failed: the 1-based line in the model file and why. */
export class JinjaError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(message);
  }
}

/** nunjucks passes keyword arguments as a last object flagged `__keywords`. */
function splitArguments(args: unknown[]): { positional: unknown[]; keywords: Record<string, unknown> } {
  const last = args.at(-1);
  if (last !== null && typeof last === 'object' && (last as Record<string, unknown>).__keywords === true) {
    const { __keywords: _flag, ...keywords } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), keywords };
  }
  return { positional: args, keywords: {} };
}

/** Render one model's SQL; throws `JinjaError` naming the line of the first problem. */
export function renderModel(text: string, context: JinjaContext): RenderResult {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  const config: Record<string, unknown> = {};
  const refs: string[] = [];
  let usedIsIncremental = false;
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const globals: Record<string, unknown> = {
    ref: (...args: unknown[]) => {
      const { positional } = splitArguments(args);
      const name = String(positional.at(-1));
      const table = context.ref(name);
      if (table === undefined) fail(`ref('${name}') names no model or seed of the project`);
      refs.push(name);
      return table;
    },
    source: (...args: unknown[]) => {
      const { positional } = splitArguments(args);
      const [sourceName, table] = positional.map(String);
      const name = context.source(sourceName ?? '', table ?? '');
      if (name === undefined) fail(`source('${sourceName}', '${table}') is not declared in a sources: block`);
      return name;
    },
    config: (...args: unknown[]) => {
      Object.assign(config, splitArguments(args).keywords);
      return '';
    },
    var: (...args: unknown[]) => {
      const { positional } = splitArguments(args);
      const name = String(positional[0]);
      if (Object.hasOwn(context.vars, name)) return context.vars[name];
      if (positional.length > 1) return positional[1];
      return fail(`var('${name}') has no value in dbt_project.yml vars and no default`);
    },
    is_incremental: () => {
      usedIsIncremental = true;
      return false;
    },
    this: context.self,
  };
  for (const [name, value] of Object.entries(globals)) env.addGlobal(name, value);
  let sql: string;
  try {
    sql = new nunjucks.Template(text, env, 'model', true).render({});
  } catch (error) {
    throw asJinjaError(error, text);
  }
  return { sql, config, refs, usedIsIncremental };
}

/**
 * nunjucks' `(model) [Line 3, Column 8]\n  Error: …` → a message and a place. Errors raised while
 * rendering count lines from 0, parse errors from 1; an error without a place (an unknown filter)
 * is placed on the first line naming what it is about.
 */
function asJinjaError(error: unknown, text: string): JinjaError {
  const raw = error instanceof Error ? error.message : String(error);
  const place = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const body = raw.replace(/^\(model\)\s*(\[Line \d+, Column \d+\])?\s*/, '');
  const atRender = /^Error: /.test(body);
  let message = body
    .replace(/^Error:\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  message = message.replace(
    /Unable to call `([^`]+)`, which is undefined or falsey/,
    (_all, name: string) => {
      return `\`${name.replace(/\["([^"]+)"\]/g, '.$1')}\` is not a macro Tessera renders (only ref, source, config, var, is_incremental)`;
    },
  );
  message = message.replace(/^filter not found: (\S+)/, '`$1` is not a filter Tessera renders');
  message = message.replace(
    /attempted to output null or undefined value/,
    'a variable that is not defined (only ref, source, config, var, is_incremental and this are)',
  );
  if (place) {
    const line = Number(place[1]) + (atRender ? 1 : 0);
    return new JinjaError(message, line, Number(place[2]));
  }
  const about = /`([^`]+)`|'([^']+)'/.exec(message);
  const needle = about ? (about[1] ?? about[2])! : undefined;
  const index = needle === undefined ? -1 : text.split('\n').findIndex((line) => line.includes(needle));
  return new JinjaError(message, index >= 0 ? index + 1 : undefined, undefined);
}
