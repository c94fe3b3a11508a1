/** Columns as this principal reads them: type, description, sensitivity, and the mask applied. */
import type { ColumnView } from '../api/types.ts';
import { Badge } from '../app/status.tsx';

export function SchemaTable({ columns }: { columns: ColumnView[] }) {
  return (
    <table aria-label="Schema" className="schema">
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">Type</th>
          <th scope="col">Sensitivity</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {columns.map((column) => (
          <tr key={column.name}>
            <th scope="row">
              <code>{column.name}</code>
            </th>
            <td>
              <code>{column.type}</code>
            </td>
            <td>
              {column.sensitivity && <Badge kind={column.sensitivity}>{column.sensitivity}</Badge>}
              {column.mask && (
                <Badge kind="mask" title={`you read this column through the ${column.mask} mask`}>
                  {column.mask}
                </Badge>
              )}
              {column.sensitivity && !column.mask && <span className="muted"> in clear</span>}
            </td>
            <td>{column.description ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
