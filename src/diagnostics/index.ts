export * from './diagnostic.ts';
export * from './errors.ts';
export * from './edit-distance.ts';
