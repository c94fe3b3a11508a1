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
      if (!known.has(predecessor)) continue;
      const list = successors.get(predecessor);
      if (list) list.push(node);
      else successors.set(predecessor, [node]);
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
  const ready = new MinHeap<number>((a, b) => compare(key(a), key(b)));
  components.forEach((_, position) => {
    if (waitingOn[position] === 0) ready.push(position);
  });
  const order: string[] = [];
  for (let component = ready.pop(); component !== undefined; component = ready.pop()) {
    order.push(...components[component]!);
    for (const next of componentSuccessors[component]!) {
      if (--waitingOn[next]! === 0) ready.push(next);
    }
  }
  return order;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A binary heap: the ready set of Kahn's algorithm in O(log n) per step, whatever the graph's width. */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly order: (a: T, b: T) => number) {}

  push(item: T): void {
    const items = this.items;
    let index = items.push(item) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.order(items[parent]!, item) <= 0) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.order(items[right]!, items[left]!) < 0 ? right : left;
      if (this.order(last, items[child]!) <= 0) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = last;
    return top;
  }
}
