export * from './ast-node.ts';
export * from './sql-parser.ts';
export * from './statement-keywords.ts';
export * from './table-reference-walker.ts';
export * from './select-analyzer.ts';
export * from './column-lineage.ts';
export * from './table-reference-rewriter.ts';
export * from './parameter-binding.ts';
