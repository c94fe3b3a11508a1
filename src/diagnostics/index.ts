export * from './diagnostic.ts';
export * from './errors.ts';
