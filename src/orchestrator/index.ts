export { runInOrder, type RunSelection } from './run-in-order.ts';
