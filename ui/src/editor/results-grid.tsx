/**
 * A result as an ARIA grid whose rows are rendered only when scrolled into view, so a result of
 * 10,000 rows scrolls as lightly as one of 20.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import type { QueryResult } from '../api/types.ts';
import { formatCell } from './cell-format.ts';

const ROW_HEIGHT = 28;

export function ResultsGrid({ result }: { result: QueryResult }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: result.rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const template = `repeat(${result.columns.length}, minmax(120px, 1fr))`;
  return (
    <div
      role="grid"
      aria-label="Query results"
      aria-rowcount={result.rows.length + 1}
      aria-colcount={result.columns.length}
      className="grid"
      ref={scroller}
    >
      <div role="rowgroup" className="grid-head">
        <div role="row" aria-rowindex={1} className="grid-row" style={{ gridTemplateColumns: template }}>
          {result.columns.map((column, index) => (
            <div role="columnheader" aria-colindex={index + 1} key={column.name} title={column.type}>
              {column.name}
              <span className="muted"> {column.type}</span>
            </div>
          ))}
        </div>
      </div>
      <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const row = result.rows[item.index]!;
          return (
            <div
              role="row"
              aria-rowindex={item.index + 2}
              key={item.key}
              className="grid-row"
              style={{
                gridTemplateColumns: template,
                position: 'absolute',
                top: 0,
                left: 0,
                right: 0,
                height: ROW_HEIGHT,
                transform: `translateY(${item.start}px)`,
              }}
            >
              {result.columns.map((column, index) => (
                <div role="gridcell" aria-colindex={index + 1} key={column.name}>
                  {formatCell(row[column.name])}
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}
