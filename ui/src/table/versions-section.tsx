/** Published versions with the run and commit that made them, and their validation results. */
import { api } from '../api/client.ts';
import type { CheckResult } from '../api/types.ts';
import { href } from '../app/routing.ts';
import { Badge, Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';
import { formatCell } from '../editor/cell-format.ts';

export function VersionsSection({ table }: { table: string }) {
  const state = useApi(async () => {
    const [versions, validations] = await Promise.all([api.versions(table), api.validations(table)]);
    const checksOf = new Map(validations.versions.map((entry) => [entry.version, entry.checks]));
    return versions.map((version) => ({ ...version, results: checksOf.get(version.version) ?? [] }));
  }, [table]);
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <Loaded state={state} label="versions">
        {(versions) =>
          versions.length === 0 ? (
            <p>No version published yet.</p>
          ) : (
            <ol className="versions" aria-label="Versions">
              {versions.slice(0, 10).map((version) => {
                const failed = version.results.filter((check) => !check.success);
                return (
                  <li key={version.version}>
                    <details open={version === versions[0]}>
                      <summary>
                        Version {version.version} · {version.rowCount.toLocaleString()} rows ·{' '}
                        {new Date(version.publishedAt).toLocaleString()} ·{' '}
                        {failed.length === 0 ? (
                          <Badge kind="healthy">{version.results.length} checks passed</Badge>
                        ) : (
                          <Badge kind="failing">{failed.length} checks failed</Badge>
                        )}
                      </summary>
                      <p className="muted">
                        Run <code>{version.runId}</code> of task{' '}
                        <a href={href.task(version.task)}>{version.task}</a>
                        {version.gitCommit && (
                          <>
                            {' '}
                            · commit <code>{version.gitCommit.slice(0, 10)}</code>
                          </>
                        )}
                        {version.upstream.length > 0 && (
                          <>
                            {' '}
                            · read {version.upstream.map((ref) => `${ref.table}@${ref.version}`).join(', ')}
                          </>
                        )}
                      </p>
                      <ChecksTable version={version.version} checks={version.results} />
                    </details>
                  </li>
                );
              })}
            </ol>
          )
        }
      </Loaded>
    </section>
  );
}

function ChecksTable({ version, checks }: { version: number; checks: CheckResult[] }) {
  if (checks.length === 0) return <p className="muted">No validations ran on this version.</p>;
  return (
    <table aria-label={`Validation results of version ${version}`} className="checks">
      <thead>
        <tr>
          <th scope="col">Validation</th>
          <th scope="col">Result</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((check, index) => (
          <tr key={index}>
            <td>
              <code>{check.expectation}</code> <span className="muted">{describeArgs(check.args)}</span>
            </td>
            <td>
              {check.success ? (
                <Badge kind="healthy">passed</Badge>
              ) : (
                <Badge kind={check.severity === 'warn' ? 'warning' : 'failing'}>
                  failed ({check.severity})
                </Badge>
              )}
            </td>
            <td>
              {check.error && <span className="error">{check.error}</span>}
              {check.unexpectedCount !== undefined && check.unexpectedCount > 0 && (
                <>
                  {check.unexpectedCount} unexpected
                  {check.unexpectedPercent !== undefined && ` (${check.unexpectedPercent.toFixed(2)}%)`}
                </>
              )}
              {check.sample && check.sample.length > 0 && (
                <>
                  {' '}
                  · e.g. <code>{check.sample.slice(0, 3).map(formatCell).join(', ')}</code>
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}
