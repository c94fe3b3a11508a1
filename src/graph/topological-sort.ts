import { stronglyConnectedComponents } from './strongly-connected-components.ts';

/**
 * Nodes in dependency order (Kahn's algorithm) with an alphabetical tie-break, so the same graph
 * always yields the same order. Nodes on a cycle are kept together, alphabetically, at the point
 * where the whole cycle's outside dependencies are met: every node is listed exactly once.
 */
export function topologicalSort(
  nodes: readonly string[],
  predecessorsOf: (node: string) => readonly string[],
): string[] {
  const known = new Set(nodes);
  const successors = new Map<string, string[]>();
  for (const node of known) {
    for (const predecessor of new Set(predecessorsOf(node))) {
      if (known.has(predecessor)) successors.set(predecessor, [...(successors.get(predecessor) ?? []), node]);
    }
  }
  const components = stronglyConnectedComponents([...known], (node) => successors.get(node) ?? []).map(
    (members) => [...members].sort(),
  );
  const componentOf = new Map<string, number>();
  components.forEach((members, position) => members.forEach((member) => componentOf.set(member, position)));

  const waitingOn = components.map(() => 0);
  const componentSuccessors = components.map(() => new Set<number>());
  for (const [node, nexts] of successors) {
    for (const next of nexts) {
      const from = componentOf.get(node)!;
      const to = componentOf.get(next)!;
      if (from !== to && !componentSuccessors[from]!.has(to)) {
        componentSuccessors[from]!.add(to);
        waitingOn[to]!++;
      }
    }
  }
  const key = (component: number) => components[component]![0]!;
  const ready = components.map((_, position) => position).filter((position) => waitingOn[position] === 0);
  ready.sort((a, b) => compare(key(a), key(b)));
  const order: string[] = [];
  while (ready.length > 0) {
    const component = ready.shift()!;
    order.push(...components[component]!);
    for (const next of componentSuccessors[component]!) {
      if (--waitingOn[next]! === 0) insertSorted(ready, next, key);
    }
  }
  return order;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function insertSorted(list: number[], item: number, key: (item: number) => string): void {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compare(key(list[middle]!), key(item)) < 0) low = middle + 1;
    else high = middle;
  }
  list.splice(low, 0, item);
}
