/** A bar or line chart of one numeric column against another column, drawn as plain SVG. */
import { useState } from 'react';
import type { QueryResult } from '../api/types.ts';
import { formatCell } from './cell-format.ts';

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|REAL|DOUBLE|DECIMAL)/i;
const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 12, bottom: 48, left: 64 };
const MAX_POINTS = 200;

export function ResultChart({ result }: { result: QueryResult }) {
  const numeric = result.columns.filter((column) => NUMERIC.test(column.type));
  const [kind, setKind] = useState<'bar' | 'line'>('bar');
  const [x, setX] = useState(
    () => result.columns.find((column) => !NUMERIC.test(column.type))?.name ?? result.columns[0]?.name ?? '',
  );
  const [y, setY] = useState(
    () => numeric.find((column) => column.name !== x)?.name ?? numeric[0]?.name ?? '',
  );
  if (numeric.length === 0) return <p className="muted">No numeric column to chart.</p>;
  const points = result.rows
    .slice(0, MAX_POINTS)
    .map((row) => ({ label: formatCell(row[x]), value: Number(row[y] ?? 0) }));
  const max = Math.max(0, ...points.map((point) => point.value));
  const min = Math.min(0, ...points.map((point) => point.value));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const scaleY = (value: number) => MARGIN.top + plotHeight - ((value - min) / (max - min || 1)) * plotHeight;
  const step = plotWidth / Math.max(points.length, 1);
  const centre = (index: number) => MARGIN.left + step * index + step / 2;
  return (
    <div className="chart">
      <div className="inline-form" role="group" aria-label="Chart settings">
        <label>
          Chart
          <select value={kind} onChange={(event) => setKind(event.target.value as 'bar' | 'line')}>
            <option value="bar">bar</option>
            <option value="line">line</option>
          </select>
        </label>
        <label>
          X axis
          <select value={x} onChange={(event) => setX(event.target.value)}>
            {result.columns.map((column) => (
              <option key={column.name}>{column.name}</option>
            ))}
          </select>
        </label>
        <label>
          Y axis
          <select value={y} onChange={(event) => setY(event.target.value)}>
            {numeric.map((column) => (
              <option key={column.name}>{column.name}</option>
            ))}
          </select>
        </label>
      </div>
      <svg
        role="img"
        aria-label={`${kind} chart of ${y} by ${x}${result.rows.length > MAX_POINTS ? `, first ${MAX_POINTS} rows` : ''}`}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        style={{ maxWidth: WIDTH }}
      >
        <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={scaleY(0)} y2={scaleY(0)} className="axis" />
        <line
          x1={MARGIN.left}
          x2={MARGIN.left}
          y1={MARGIN.top}
          y2={MARGIN.top + plotHeight}
          className="axis"
        />
        <text x={MARGIN.left - 6} y={scaleY(max) + 4} textAnchor="end" className="tick">
          {max.toLocaleString()}
        </text>
        {min < 0 && (
          <text x={MARGIN.left - 6} y={scaleY(min) + 4} textAnchor="end" className="tick">
            {min.toLocaleString()}
          </text>
        )}
        {kind === 'bar' ? (
          points.map((point, index) => (
            <rect
              key={index}
              x={MARGIN.left + step * index + step * 0.1}
              width={step * 0.8}
              y={Math.min(scaleY(point.value), scaleY(0))}
              height={Math.abs(scaleY(point.value) - scaleY(0))}
              className="bar"
            >
              <title>
                {point.label}: {point.value}
              </title>
            </rect>
          ))
        ) : (
          <polyline
            className="line"
            fill="none"
            points={points.map((point, index) => `${centre(index)},${scaleY(point.value)}`).join(' ')}
          />
        )}
        {points.length <= 30 &&
          points.map((point, index) => (
            <text
              key={index}
              x={centre(index)}
              y={HEIGHT - MARGIN.bottom + 14}
              textAnchor="middle"
              className="tick"
            >
              {point.label.length > 10 ? point.label.slice(0, 9) + '…' : point.label}
            </text>
          ))}
      </svg>
    </div>
  );
}
