export { TaskGraph } from './task-graph.ts';
export { topologicalSort } from './topological-sort.ts';
export { stronglyConnectedComponents } from './strongly-connected-components.ts';
