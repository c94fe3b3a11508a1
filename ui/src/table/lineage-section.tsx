/**
 * Upstream and downstream lineage: a graph to pan, zoom and click through (React Flow, laid out
 * by dagre), and the same tables as plain links for keyboards and screen readers. Column-level
 * lineage is loaded on demand.
 */
import { lazy, Suspense, useState } from 'react';
import { api } from '../api/client.ts';
import type { LineageEdge } from '../api/types.ts';
import { href } from '../app/routing.ts';
import { Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';
import { neighbours } from './lineage-edges.ts';

// React Flow and dagre are loaded with the first table page, not with the sign-in page.
const LineageGraph = lazy(async () => ({ default: (await import('./lineage-graph.tsx')).LineageGraph }));

export function LineageSection({ table }: { table: string }) {
  const [columns, setColumns] = useState(false);
  const lineage = useApi(() => api.lineage(table, { columns }), [table, columns]);
  return (
    <section aria-labelledby="lineage-title">
      <h2 id="lineage-title">Lineage</h2>
      <Loaded state={lineage} label="lineage">
        {(view) => {
          const { upstream, downstream } = neighbours(table, view.edges);
          const columnEdges = view.edges.filter((edge) => edge.fromColumn && edge.toColumn);
          return (
            <>
              <Suspense fallback={<p role="status">Loading the lineage graph…</p>}>
                <LineageGraph table={table} edges={view.edges} />
              </Suspense>
              <div className="lineage-links">
                <LinkList label="Upstream tables" tables={upstream} />
                <LinkList label="Downstream tables" tables={downstream} />
              </div>
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={columns}
                  onChange={(event) => setColumns(event.target.checked)}
                />
                Show column lineage
              </label>
              {columns && <ColumnLineage table={table} edges={columnEdges} />}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

function LinkList({ label, tables }: { label: string; tables: string[] }) {
  return (
    <nav aria-label={label}>
      <h3>{label}</h3>
      {tables.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <ul>
          {tables.map((name) => (
            <li key={name}>
              <a href={href.table(name)}>{name}</a>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}

function ColumnLineage({ table, edges }: { table: string; edges: LineageEdge[] }) {
  const relevant = edges.filter((edge) => edge.fromTable === table || edge.toTable === table);
  if (relevant.length === 0) return <p className="muted">No column-level lineage recorded for this table.</p>;
  return (
    <table aria-label="Column lineage" className="checks">
      <thead>
        <tr>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Task</th>
        </tr>
      </thead>
      <tbody>
        {relevant.map((edge, index) => (
          <tr key={index}>
            <td>
              <code>
                {edge.fromTable}.{edge.fromColumn}
              </code>
            </td>
            <td>
              <code>
                {edge.toTable}.{edge.toColumn}
              </code>
            </td>
            <td>{edge.task ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
