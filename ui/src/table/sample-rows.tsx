/** The first rows of a table through the governed query path: what this principal would read. */
import { api } from '../api/client.ts';
import { Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';
import { formatCell } from '../editor/cell-format.ts';

export function SampleRows({ table }: { table: string }) {
  const sample = useApi(() => api.query(`SELECT * FROM ${table} LIMIT 20`, { limit: 20 }), [table]);
  return (
    <Loaded state={sample} label="a sample of rows">
      {(result) =>
        result.rows.length === 0 ? (
          <p>No rows you may read.</p>
        ) : (
          <div className="scroll-x">
            <table aria-label="Sample rows" className="rows">
              <thead>
                <tr>
                  {result.columns.map((column) => (
                    <th key={column.name} scope="col">
                      {column.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {result.rows.map((row, index) => (
                  <tr key={index}>
                    {result.columns.map((column) => (
                      <td key={column.name}>{formatCell(row[column.name])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </Loaded>
  );
}
