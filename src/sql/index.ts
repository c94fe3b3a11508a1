export * from './sql-parser.ts';
