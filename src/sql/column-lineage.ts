import { cteEntries, isAstNode, isExpressionNode, type AstNode } from './ast-node.ts';
import { deserializeSql, parseSingleStatement } from './sql-parser.ts';

/** A column of a catalog table. */
export interface ColumnSource {
  /** `namespace.table`, lowercased. */
  table: string;
  /** The column name as `columnsOf` spells it (as written in the query when the table is unknown; `*` for "every column"). */
  column: string;
}

/** Where one output column of a query comes from. */
export interface OutputColumnLineage {
  /** The output column's name, as DuckDB would name it. */
  name: string;
  /** Every input column it derives from (values, conditions, window partitions...), without duplicates. */
  sources: ColumnSource[];
  /** True when the output is a plain reference or rename of exactly one kind of input column (no function, cast, CASE...). */
  direct: boolean;
}

/** The columns of a catalog table (`namespace.table`, lowercased), or undefined when it is not known. */
export type ColumnsOf = (table: string) => string[] | undefined;

/**
 * Column lineage of a query's output: for each output column, the input table columns it derives
 * from, through aliases, CTEs (recursive too), subqueries, joins (USING and NATURAL included),
 * `*` / `t.*` / `COLUMNS(...)` expansion, functions, casts, CASE, aggregates and windows.
 *
 * Best effort for exotic constructs, but it never drops a source silently: when the shape of an
 * expression is not understood, every column referenced anywhere inside it is a source. A table
 * `columnsOf` does not know is still attributed: `t.col` → `{t, col}`, an unqualified name that
 * matches no known column → every unknown table in scope, and `*` over it → one output named `*`
 * with source `{t, '*'}`.
 *
 * `parsed`, when given, is `sql`'s statement as `parseSingleStatement` returned it (a caller that
 * already parsed it saves a second parse); it is read, not kept.
 */
export async function columnLineage(
  sql: string,
  columnsOf: ColumnsOf,
  parsed?: AstNode,
): Promise<OutputColumnLineage[]> {
  const known = lineages.get(sql);
  if (known?.asked.every(([table, columns]) => sameColumns(columnsOf(table), columns))) {
    return copyOutputs(known.outputs);
  }
  const asked = new Map<string, string[] | undefined>();
  const recording: ColumnsOf = (table) => {
    const columns = columnsOf(table);
    if (!asked.has(table)) asked.set(table, columns && [...columns]);
    return columns;
  };
  const outputs = await columnLineageOfNode(parsed ?? (await parseSingleStatement(sql)).node, recording);
  if (lineages.size >= LINEAGES_LIMIT) lineages.delete(lineages.keys().next().value!);
  lineages.set(sql, { asked: [...asked], outputs: copyOutputs(outputs) });
  return outputs;
}

/**
 * Lineage by SQL text, with the columns it asked `columnsOf` about: the same query over tables with
 * the same columns has the same lineage (plan, its review of declassifications and row filters,
 * and apply each ask about every projection). Bounded in entries.
 */
const lineages = new Map<
  string,
  { asked: [string, string[] | undefined][]; outputs: OutputColumnLineage[] }
>();
const LINEAGES_LIMIT = 20_000;

function sameColumns(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((column, index) => column === b[index]);
}

function copyOutputs(outputs: readonly OutputColumnLineage[]): OutputColumnLineage[] {
  return outputs.map(({ name, sources, direct }) => ({
    name,
    sources: sources.map((source) => ({ ...source })),
    direct,
  }));
}

/** `columnLineage` over an already parsed statement's root node. */
export async function columnLineageOfNode(
  node: AstNode,
  columnsOf: ColumnsOf,
): Promise<OutputColumnLineage[]> {
  const analyzer = new LineageAnalyzer(columnsOf);
  const columns = await analyzer.queryColumns(node, rootScope());
  return columns.map((column) => ({
    name: column.name,
    sources: column.sources.list(),
    direct: column.direct,
  }));
}

/**
 * Every table column a query reads anywhere (select list, WHERE, JOIN conditions, GROUP BY,
 * HAVING, QUALIFY, ORDER BY, window clauses, subqueries), for auditing. An over-approximation:
 * `*` counts every column it expands to.
 */
export async function referencedColumns(node: AstNode, columnsOf: ColumnsOf): Promise<ColumnSource[]> {
  const collector = new SourceSet();
  const analyzer = new LineageAnalyzer(columnsOf, collector);
  const output = await analyzer.queryColumns(node, rootScope());
  for (const column of output) collector.addAll(column.sources);
  return collector.list().filter((source) => source.column !== '*');
}

/** An insertion-ordered set of sources. */
class SourceSet {
  private readonly byKey = new Map<string, ColumnSource>();

  static of(...sources: ColumnSource[]): SourceSet {
    const set = new SourceSet();
    for (const source of sources) set.add(source);
    return set;
  }

  add(source: ColumnSource): void {
    this.byKey.set(`${source.table}\u0000${source.column.toLowerCase()}`, source);
  }

  addAll(other: SourceSet): void {
    for (const source of other.byKey.values()) this.add(source);
  }

  get size(): number {
    return this.byKey.size;
  }

  list(): ColumnSource[] {
    return [...this.byKey.values()];
  }
}

interface LineageColumn {
  name: string;
  sources: SourceSet;
  direct: boolean;
}

/** One relation of a FROM clause, as seen by column references. */
interface Relation {
  /** Names a qualified column reference can use, lowercased: the alias, or the table name and `schema.table`. */
  names: string[];
  /** Known columns in order; undefined when the relation's columns cannot be known here. */
  columns: LineageColumn[] | undefined;
  /** Columns that `*` skips: the right side's copy of a USING / NATURAL join column. */
  hiddenFromStar: Set<string>;
  /** Lineage of a column of an unknown-column relation. */
  unknownColumn(name: string): LineageColumn;
  /** Everything the relation derives from. */
  allSources(): SourceSet;
}

interface Scope {
  relations: Relation[];
  parent: Scope | undefined;
  /** CTEs visible here, lowercased name → columns. */
  ctes: ReadonlyMap<string, LineageColumn[]>;
  /** Select-list aliases defined so far (DuckDB lets later items and WHERE refer to them). */
  selectAliases?: Map<string, LineageColumn>;
  /** Lambda parameters in scope: references to them are not columns. */
  lambdaParameters?: ReadonlySet<string>;
}

function rootScope(): Scope {
  return { relations: [], parent: undefined, ctes: new Map() };
}

const SINGLE_COLUMN_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

class LineageAnalyzer {
  constructor(
    private readonly columnsOf: ColumnsOf,
    private readonly collector?: SourceSet,
  ) {}

  async queryColumns(node: AstNode, scope: Scope): Promise<LineageColumn[]> {
    const withCtes = await this.declareCtes(node, scope);
    switch (node.type) {
      case 'SELECT_NODE':
        return this.selectColumns(node, withCtes);
      case 'SET_OPERATION_NODE':
        return this.setOperationColumns(node, withCtes);
      case 'RECURSIVE_CTE_NODE':
        return this.recursiveColumns(node, withCtes);
      default:
        // An unknown query shape: keep every column it references, under one output.
        return [{ name: '*', sources: this.sourcesInside(node, withCtes), direct: false }];
    }
  }

  private async declareCtes(node: AstNode, scope: Scope): Promise<Scope> {
    const entries = cteEntries(node);
    if (entries.length === 0) return scope;
    const ctes = new Map(scope.ctes);
    for (const entry of entries) {
      // A CTE's body sees the CTEs declared before it, not itself (see visitBaseTables).
      const bodyScope: Scope = { relations: [], parent: scope, ctes: new Map(ctes) };
      const columns = await this.queryColumns(entry.query, bodyScope);
      ctes.set(entry.name.toLowerCase(), renameColumns(columns, entry.aliases));
    }
    return { relations: [], parent: scope, ctes };
  }

  private async recursiveColumns(node: AstNode, scope: Scope): Promise<LineageColumn[]> {
    const name = String(node.cte_name ?? '').toLowerCase();
    const aliases = (node.aliases as string[] | undefined) ?? [];
    let columns = renameColumns(await this.queryColumns(node.left as AstNode, scope), aliases);
    // The recursive side reads its own output: iterate until the sources stop growing.
    for (let round = 0; round < 4; round += 1) {
      const ctes = new Map(scope.ctes).set(name, columns);
      const right = await this.queryColumns(node.right as AstNode, { ...scope, ctes });
      const merged = mergePositional(columns, right);
      const grew = merged.some((column, index) => column.sources.size !== columns[index]!.sources.size);
      columns = merged;
      if (!grew) break;
    }
    return columns;
  }

  private async setOperationColumns(node: AstNode, scope: Scope): Promise<LineageColumn[]> {
    const left = await this.queryColumns(node.left as AstNode, scope);
    const right = await this.queryColumns(node.right as AstNode, scope);
    if (String(node.setop_type) === 'UNION_BY_NAME') {
      const result = left.map((column) => ({ ...column, sources: SourceSet.of(...column.sources.list()) }));
      for (const column of right) {
        const match = result.find((candidate) => sameName(candidate.name, column.name));
        if (match) {
          match.sources.addAll(column.sources);
          match.direct = match.direct && column.direct;
        } else {
          result.push(column);
        }
      }
      return result;
    }
    return mergePositional(left, right);
  }

  private async selectColumns(node: AstNode, outer: Scope): Promise<LineageColumn[]> {
    const relations = await this.fromClause(node.from_table, outer);
    const scope: Scope = { relations, parent: outer, ctes: outer.ctes, selectAliases: new Map() };
    const output: LineageColumn[] = [];
    for (const item of (node.select_list as AstNode[] | undefined) ?? []) {
      const columns = await this.selectItem(item, scope);
      for (const column of columns) {
        output.push(column);
        scope.selectAliases!.set(column.name.toLowerCase(), column);
      }
    }
    if (this.collector) {
      for (const key of [
        'where_clause',
        'group_expressions',
        'group_sets',
        'having',
        'qualify',
        'modifiers',
        'sample',
      ]) {
        this.collector.addAll(await this.expressionSources(node[key], scope));
      }
    }
    return output;
  }

  private async selectItem(item: AstNode, scope: Scope): Promise<LineageColumn[]> {
    const alias = typeof item.alias === 'string' && item.alias !== '' ? item.alias : undefined;
    if (item.class === 'STAR' && !alias) return this.expandStar(item, scope);
    const unpacked = findUnpackedColumnsStar(item);
    if (unpacked && !alias) {
      // `max(COLUMNS(*))`: one output per expanded column, each also depending on the rest of the expression.
      const others = await this.expressionSources(item, scope, unpacked);
      return (await this.expandStar(unpacked, scope)).map((column) => {
        const sources = SourceSet.of(...column.sources.list());
        sources.addAll(others);
        return { name: column.name, sources, direct: false };
      });
    }
    const sources = await this.expressionSources(item, scope);
    const direct = item.class === 'COLUMN_REF' && this.isDirectReference(item, scope);
    return [{ name: alias ?? (await outputNameOf(item)), sources, direct }];
  }

  private isDirectReference(item: AstNode, scope: Scope): boolean {
    const resolved = this.resolveColumn(item.column_names as string[], scope);
    return resolved !== undefined && resolved.every((column) => column.direct);
  }

  private async expandStar(star: AstNode, scope: Scope): Promise<LineageColumn[]> {
    const relationName = typeof star.relation_name === 'string' ? star.relation_name.toLowerCase() : '';
    let relations = scope.relations;
    if (relationName) {
      relations = findRelations(scope, relationName) ?? [];
    }
    let columns: LineageColumn[] = [];
    for (const relation of relations) {
      if (!relation.columns) {
        columns.push({ name: '*', sources: relation.allSources(), direct: false });
        continue;
      }
      for (const column of relation.columns) {
        if (!relationName && relation.hiddenFromStar.has(column.name.toLowerCase())) continue;
        columns.push(column);
      }
    }
    const excluded = new Set<string>([
      ...((star.exclude_list as unknown[] | undefined) ?? []).map((name) => String(name).toLowerCase()),
      ...((star.qualified_exclude_list as { column?: string }[] | undefined) ?? []).map((entry) =>
        String(entry.column ?? '').toLowerCase(),
      ),
    ]);
    columns = columns.filter((column) => !excluded.has(column.name.toLowerCase()));
    if (star.columns === true) columns = filterColumnsExpression(star.expr, columns);
    const replacements = (star.replace_list as { key: string; value: AstNode }[] | undefined) ?? [];
    const renames = (star.rename_list as { key: { column?: string }; value: string }[] | undefined) ?? [];
    const result: LineageColumn[] = [];
    for (const column of columns) {
      const replacement = replacements.find((entry) => sameName(entry.key, column.name));
      const rename = renames.find((entry) => sameName(String(entry.key?.column ?? ''), column.name));
      const name = rename ? rename.value : column.name;
      if (replacement) {
        const sources = await this.expressionSources(replacement.value, scope);
        const direct =
          replacement.value.class === 'COLUMN_REF' && this.isDirectReference(replacement.value, scope);
        result.push({ name, sources, direct });
      } else {
        result.push({ ...column, name });
      }
    }
    return result;
  }

  private async fromClause(ref: unknown, scope: Scope): Promise<Relation[]> {
    if (!isAstNode(ref)) return [];
    const columnAliases = (ref.column_name_alias as string[] | undefined) ?? [];
    const alias = typeof ref.alias === 'string' && ref.alias !== '' ? ref.alias.toLowerCase() : undefined;
    switch (ref.type) {
      case 'EMPTY':
        return [];
      case 'BASE_TABLE':
        return [this.baseTable(ref, scope, alias, columnAliases)];
      case 'SUBQUERY': {
        const query = (ref.subquery as AstNode | undefined)?.node as AstNode;
        const columns = renameColumns(await this.queryColumns(query, scope), columnAliases);
        return [knownRelation(alias ? [alias] : [], columns)];
      }
      case 'JOIN': {
        const left = await this.fromClause(ref.left, scope);
        // The right side may be LATERAL (DuckDB detects it implicitly): it sees the left side.
        const lateral: Scope = { relations: left, parent: scope, ctes: scope.ctes };
        const right = await this.fromClause(ref.right, lateral);
        const both: Scope = { relations: [...left, ...right], parent: scope, ctes: scope.ctes };
        if (this.collector) this.collector.addAll(await this.expressionSources(ref.condition, both));
        const shared = new Set(
          ((ref.using_columns as string[] | undefined) ?? []).map((name) => name.toLowerCase()),
        );
        if (ref.ref_type === 'NATURAL') {
          const leftNames = new Set(
            left.flatMap((relation) => relation.columns ?? []).map((c) => c.name.toLowerCase()),
          );
          for (const column of right.flatMap((relation) => relation.columns ?? [])) {
            if (leftNames.has(column.name.toLowerCase())) shared.add(column.name.toLowerCase());
          }
        }
        for (const relation of right) for (const name of shared) relation.hiddenFromStar.add(name);
        return [...left, ...right];
      }
      case 'TABLE_FUNCTION': {
        const fn = ref.function as AstNode;
        const name = String(fn.function_name ?? '').toLowerCase();
        const argumentSources = await this.expressionSources(fn.children, scope);
        const names =
          columnAliases.length > 0
            ? columnAliases
            : SINGLE_COLUMN_TABLE_FUNCTIONS.has(name)
              ? [name]
              : undefined;
        if (names) {
          const columns = names.map((column) => ({
            name: column,
            sources: SourceSet.of(...argumentSources.list()),
            direct: false,
          }));
          return [knownRelation([alias ?? name], columns)];
        }
        return [unknownRelation([alias ?? name], () => argumentSources)];
      }
      case 'EXPRESSION_LIST': {
        const rows = (ref.values as AstNode[][] | undefined) ?? [];
        const width = rows[0]?.length ?? 0;
        const columns: LineageColumn[] = [];
        for (let index = 0; index < width; index += 1) {
          const sources = new SourceSet();
          for (const row of rows) sources.addAll(await this.expressionSources(row[index], scope));
          columns.push({ name: `col${index}`, sources, direct: false });
        }
        return [knownRelation([alias ?? 'valueslist'], renameColumns(columns, columnAliases))];
      }
      case 'PIVOT': {
        // PIVOT output columns depend on data; every output derives from everything it reads.
        const source = await this.fromClause(ref.source, scope);
        const all = new SourceSet();
        for (const relation of source) all.addAll(relation.allSources());
        const sourceScope: Scope = { relations: source, parent: scope, ctes: scope.ctes };
        for (const key of ['aggregates', 'pivots', 'unpivot_names', 'groups']) {
          all.addAll(await this.expressionSources(ref[key], sourceScope));
        }
        this.collector?.addAll(all);
        return [unknownRelation(alias ? [alias] : [], () => all)];
      }
      default: {
        const all = this.sourcesInside(ref, scope);
        return [unknownRelation(alias ? [alias] : [], () => all)];
      }
    }
  }

  private baseTable(
    ref: AstNode,
    scope: Scope,
    alias: string | undefined,
    columnAliases: string[],
  ): Relation {
    const schema = String(ref.schema_name ?? '').toLowerCase();
    const catalog = String(ref.catalog_name ?? '').toLowerCase();
    const tableName = String(ref.table_name ?? '').toLowerCase();
    const names = alias ? [alias] : [tableName, ...(schema ? [`${schema}.${tableName}`] : [])];
    const cte = !schema && !catalog ? (scope.ctes.get(tableName) ?? findCte(scope, tableName)) : undefined;
    if (cte) return knownRelation(names, renameColumns(cte, columnAliases));
    const table = [catalog, schema, tableName].filter(Boolean).join('.');
    const known = this.columnsOf(table);
    if (known) {
      const columns = known.map((column) => ({
        name: column,
        sources: SourceSet.of({ table, column }),
        direct: true,
      }));
      return knownRelation(names, renameColumns(columns, columnAliases));
    }
    return {
      names,
      columns: undefined,
      hiddenFromStar: new Set(),
      unknownColumn: (column) => ({ name: column, sources: SourceSet.of({ table, column }), direct: true }),
      allSources: () => SourceSet.of({ table, column: '*' }),
    };
  }

  /** Sources of an expression (or any AST fragment holding expressions). */
  private async expressionSources(value: unknown, scope: Scope, skip?: AstNode): Promise<SourceSet> {
    const sources = new SourceSet();
    await this.collectSources(value, scope, sources, skip);
    return sources;
  }

  private async collectSources(value: unknown, scope: Scope, into: SourceSet, skip?: AstNode): Promise<void> {
    if (Array.isArray(value)) {
      for (const item of value) await this.collectSources(item, scope, into, skip);
      return;
    }
    if (!isAstNode(value) || value === skip) return;
    switch (value.class) {
      case 'COLUMN_REF': {
        const names = value.column_names as string[];
        if (scope.lambdaParameters?.has(names[0]!.toLowerCase())) return;
        for (const column of this.resolveColumn(names, scope) ?? []) into.addAll(column.sources);
        return;
      }
      case 'STAR': {
        for (const column of await this.expandStar(value, scope)) into.addAll(column.sources);
        return;
      }
      case 'SUBQUERY': {
        const query = (value.subquery as AstNode | undefined)?.node as AstNode;
        for (const column of await this.queryColumns(query, scope)) into.addAll(column.sources);
        await this.collectSources(value.child, scope, into, skip);
        return;
      }
      case 'LAMBDA': {
        const parameters = new Set(scope.lambdaParameters ?? []);
        collectColumnNames(value.lhs, parameters);
        await this.collectSources(value.expr, { ...scope, lambdaParameters: parameters }, into, skip);
        return;
      }
      default:
        for (const child of Object.values(value)) await this.collectSources(child, scope, into, skip);
    }
  }

  /** Every column referenced anywhere inside an AST fragment we do not model. */
  private sourcesInside(value: unknown, scope: Scope): SourceSet {
    const sources = new SourceSet();
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (!isAstNode(node)) return;
      if (node.class === 'COLUMN_REF') {
        for (const column of this.resolveColumn(node.column_names as string[], scope) ?? [])
          sources.addAll(column.sources);
      }
      if (node.type === 'BASE_TABLE' && !('class' in node)) {
        sources.addAll(this.baseTable(node, scope, undefined, []).allSources());
      }
      Object.values(node).forEach(visit);
    };
    visit(value);
    this.collector?.addAll(sources);
    return sources;
  }

  /**
   * Resolve `a`, `t.a`, `s.t.a` (or a struct path such as `a.field`) the way DuckDB's binder does:
   * innermost scope first, relation-qualified before struct access.
   */
  private resolveColumn(names: string[], scope: Scope): LineageColumn[] | undefined {
    const lowered = names.map((name) => name.toLowerCase());
    const resolved = this.resolveLowered(lowered, scope);
    if (resolved && this.collector) for (const column of resolved) this.collector.addAll(column.sources);
    return resolved;
  }

  private resolveLowered(names: string[], scope: Scope): LineageColumn[] | undefined {
    for (let prefix = Math.min(names.length - 1, 3); prefix >= 1; prefix -= 1) {
      const relationName = names.slice(0, prefix).join('.');
      const relations = findRelations(scope, relationName);
      if (relations) {
        const column = names[prefix]!;
        return relations.map((relation) => columnOf(relation, column) ?? relationAsColumn(relation, column));
      }
    }
    // Unknown qualifier or a struct path: the first name as a column, else (never drop a source)
    // any column named like the last part.
    return (
      this.resolveUnqualified(names[0]!, scope) ??
      (names.length > 1 ? this.resolveUnqualified(names.at(-1)!, scope) : undefined)
    );
  }

  private resolveUnqualified(name: string, scope: Scope): LineageColumn[] | undefined {
    for (let level: Scope | undefined = scope; level; level = level.parent) {
      const matches = level.relations
        .filter((relation) => relation.columns !== undefined)
        .map((relation) => columnOf(relation, name))
        .filter((column): column is LineageColumn => column !== undefined);
      if (matches.length > 0) return matches;
      const unknown = level.relations.filter((relation) => !relation.columns);
      if (unknown.length > 0) return unknown.map((relation) => relation.unknownColumn(name));
      const alias = level.selectAliases?.get(name);
      if (alias) return [alias];
      // `SELECT p FROM t AS p`: a relation used as a value is a struct of all its columns.
      const relation = level.relations.find((candidate) => candidate.names.includes(name));
      if (relation) return [relationAsColumn(relation, name)];
    }
    return undefined;
  }
}

/** `COLUMNS('regex')`, `COLUMNS(['a', 'b'])`, `COLUMNS(lambda)`: filter what the star expanded to. */
function filterColumnsExpression(expression: unknown, columns: LineageColumn[]): LineageColumn[] {
  if (!isExpressionNode(expression)) return columns;
  if (expression.class === 'CONSTANT') {
    const pattern = (expression.value as { value?: unknown } | undefined)?.value;
    if (typeof pattern !== 'string') return columns;
    try {
      const regex = new RegExp(pattern);
      return columns.filter((column) => column.name === '*' || regex.test(column.name));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return columns; // An RE2 pattern JavaScript cannot read: keep everything rather than guess.
    }
  }
  if (expression.class === 'FUNCTION' && expression.function_name === 'list_value') {
    const names = ((expression.children as AstNode[] | undefined) ?? []).map((child) =>
      String((child.value as { value?: unknown } | undefined)?.value ?? '').toLowerCase(),
    );
    return columns.filter((column) => column.name === '*' || names.includes(column.name.toLowerCase()));
  }
  return columns;
}

function knownRelation(names: string[], columns: LineageColumn[]): Relation {
  return {
    names,
    columns,
    hiddenFromStar: new Set(),
    unknownColumn: (name) => ({ name, sources: new SourceSet(), direct: false }),
    allSources: () => {
      const all = new SourceSet();
      for (const column of columns) all.addAll(column.sources);
      return all;
    },
  };
}

function unknownRelation(names: string[], allSources: () => SourceSet): Relation {
  return {
    names,
    columns: undefined,
    hiddenFromStar: new Set(),
    unknownColumn: (name) => ({ name, sources: SourceSet.of(...allSources().list()), direct: false }),
    allSources,
  };
}

function columnOf(relation: Relation, name: string): LineageColumn | undefined {
  if (!relation.columns) return relation.unknownColumn(name);
  return relation.columns.find((column) => column.name.toLowerCase() === name);
}

function relationAsColumn(relation: Relation, name: string): LineageColumn {
  return { name, sources: relation.allSources(), direct: false };
}

function findRelations(scope: Scope, name: string): Relation[] | undefined {
  for (let level: Scope | undefined = scope; level; level = level.parent) {
    const matches = level.relations.filter((relation) => relation.names.includes(name));
    if (matches.length > 0) return matches;
  }
  return undefined;
}

function findCte(scope: Scope, name: string): LineageColumn[] | undefined {
  for (let level: Scope | undefined = scope; level; level = level.parent) {
    const found = level.ctes.get(name);
    if (found) return found;
  }
  return undefined;
}

function renameColumns(columns: LineageColumn[], aliases: string[]): LineageColumn[] {
  if (aliases.length === 0) return columns;
  return columns.map((column, index) =>
    index < aliases.length ? { ...column, name: aliases[index]! } : column,
  );
}

function mergePositional(left: LineageColumn[], right: LineageColumn[]): LineageColumn[] {
  const width = Math.max(left.length, right.length);
  const merged: LineageColumn[] = [];
  for (let index = 0; index < width; index += 1) {
    const a = left[index];
    const b = right[index];
    const sources = new SourceSet();
    if (a) sources.addAll(a.sources);
    if (b) sources.addAll(b.sources);
    merged.push({ name: (a ?? b)!.name, sources, direct: (a?.direct ?? true) && (b?.direct ?? true) });
  }
  return merged;
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function collectColumnNames(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) return value.forEach((item) => collectColumnNames(item, into));
  if (!isAstNode(value)) return;
  if (value.class === 'COLUMN_REF') into.add(String((value.column_names as string[])[0]).toLowerCase());
  for (const child of Object.values(value)) collectColumnNames(child, into);
}

/** A `COLUMNS(...)` star nested inside a select item's expression (not the item itself), if any. */
function findUnpackedColumnsStar(item: AstNode): AstNode | undefined {
  let found: AstNode | undefined;
  const visit = (value: unknown): void => {
    if (found) return;
    if (Array.isArray(value)) return value.forEach(visit);
    if (!isAstNode(value)) return;
    if (value !== item && value.class === 'STAR' && value.columns === true) {
      found = value;
      return;
    }
    if (value.class === 'SUBQUERY') return; // A subquery's stars are its own.
    Object.values(value).forEach(visit);
  };
  visit(item);
  return found;
}

/**
 * DuckDB names an unaliased output column after the expression's SQL text, which is what the
 * deserializer prints: `upper(x)`, `CAST(a AS INTEGER)`.
 */
async function outputNameOf(expression: AstNode): Promise<string> {
  if (expression.class === 'COLUMN_REF') {
    const names = expression.column_names as string[];
    return names[names.length - 1]!;
  }
  try {
    const text = await deserializeSql({
      error: false,
      statements: [
        {
          node: {
            type: 'SELECT_NODE',
            modifiers: [],
            cte_map: { map: [] },
            select_list: [{ ...expression, alias: '' }],
            from_table: { type: 'EMPTY', alias: '', sample: null, query_location: 0 },
            where_clause: null,
            group_expressions: [],
            group_sets: [],
            aggregate_handling: 'STANDARD_HANDLING',
            having: null,
            sample: null,
            qualify: null,
          },
          named_param_map: [],
        },
      ],
    });
    return text.replace(/^SELECT /, '').replace(/;$/, '');
  } catch {
    return String(expression.function_name ?? expression.class ?? 'column');
  }
}
