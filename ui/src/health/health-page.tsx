/** What needs attention: failing, stale and warning tables, and the open incidents. */
import { api } from '../api/client.ts';
import type { TableHealth } from '../api/types.ts';
import { href } from '../app/routing.ts';
import { Badge, Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';

const GROUPS: { title: string; states: string[] }[] = [
  { title: 'Failing', states: ['failing', 'upstream_failing'] },
  { title: 'Stale', states: ['stale'] },
  { title: 'Warning', states: ['warning'] },
];

export function HealthPage() {
  const health = useApi(() => api.health(), []);
  return (
    <section aria-labelledby="health-title">
      <h1 id="health-title">Health</h1>
      <Loaded state={health} label="health">
        {({ tables, incidents }) => {
          const healthy = tables.filter((entry) => entry.health === 'healthy').length;
          return (
            <>
              <p role="status">
                {healthy} of {tables.length} tables healthy · {incidents.length} open{' '}
                {incidents.length === 1 ? 'incident' : 'incidents'}
              </p>
              {GROUPS.map((group) => (
                <HealthGroup
                  key={group.title}
                  title={group.title}
                  tables={tables.filter((entry) => group.states.includes(entry.health))}
                />
              ))}
              <section aria-labelledby="incidents-title">
                <h2 id="incidents-title">Open incidents</h2>
                {incidents.length === 0 ? (
                  <p className="muted">None.</p>
                ) : (
                  <table aria-label="Open incidents">
                    <thead>
                      <tr>
                        <th scope="col">Incident</th>
                        <th scope="col">Table or task</th>
                        <th scope="col">Kind</th>
                        <th scope="col">Cause</th>
                        <th scope="col">Opened</th>
                      </tr>
                    </thead>
                    <tbody>
                      {incidents.map((incident) => (
                        <tr key={incident.id}>
                          <td>
                            <code>{incident.id}</code>
                          </td>
                          <td>
                            {incident.table ? <a href={href.table(incident.table)}>{incident.table}</a> : '—'}
                          </td>
                          <td>
                            {incident.kind} ({incident.severity})
                          </td>
                          <td>{incident.cause}</td>
                          <td>{new Date(incident.openedAt).toLocaleString()}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section aria-labelledby="all-title">
                <h2 id="all-title">Every table</h2>
                <HealthList label="Every table" tables={tables} />
              </section>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

function HealthGroup({ title, tables }: { title: string; tables: TableHealth[] }) {
  const id = `health-${title.toLowerCase()}`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>
        {title} ({tables.length})
      </h2>
      {tables.length === 0 ? <p className="muted">None.</p> : <HealthList label={title} tables={tables} />}
    </section>
  );
}

function HealthList({ label, tables }: { label: string; tables: TableHealth[] }) {
  return (
    <ul aria-label={`${label} tables`} className="health-list">
      {tables.map((entry) => (
        <li key={entry.table}>
          <a href={href.table(entry.table)}>{entry.table}</a>{' '}
          <Badge kind={entry.health}>{entry.health}</Badge> <span>{entry.reason}</span>
          {entry.owner && <span className="muted"> · owner {entry.owner}</span>}
        </li>
      ))}
    </ul>
  );
}
