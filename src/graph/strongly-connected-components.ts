/**
 * Tarjan's strongly connected components: every node lands in exactly one component; a node on
 * no cycle is a component of its own. Components come out in reverse dependency order.
 */
export function stronglyConnectedComponents(
  nodes: readonly string[],
  successorsOf: (node: string) => readonly string[],
): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  const connect = (node: string): void => {
    index.set(node, counter);
    lowLink.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const successor of successorsOf(node)) {
      if (!index.has(successor)) {
        connect(successor);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(successor)!));
      } else if (onStack.has(successor)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(successor)!));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of nodes) if (!index.has(node)) connect(node);
  return components;
}
