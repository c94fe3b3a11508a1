/** The first rows of a table through the governed query path: what this principal would read. */
import { api } from '../api/client.ts';
import { Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';
import { formatCell } from '../editor/cell-format.ts';

/** A catalog table name, `namespace.table`: anything else never reaches SQL (the name comes from the URL). */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function SampleRows({ table }: { table: string }) {
  const sample = useApi(async () => {
    if (!TABLE_NAME.test(table))
      throw new Error(`${table} is not a table name; open a table from the search`);
    return api.query(`SELECT * FROM ${table} LIMIT 20`, { limit: 20 });
  }, [table]);
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
