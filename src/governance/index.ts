export * from './access-resolver.ts';
export * from './mask-compiler.ts';
export * from './function-allowlist.ts';
export * from './row-filter-compiler.ts';
export * from './sql-guard.ts';
export * from './sensitivity-inheritance.ts';
