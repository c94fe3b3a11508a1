/**
 * The SQL editor: CodeMirror with completion over the tables and columns this principal may read,
 * Run (or Ctrl-Enter) and Cancel, a virtual-scrolling results grid, CSV download, a chart, query
 * history, and a shareable link (the SQL is in the URL).
 */
import { PostgreSQL, sql as sqlLanguage, type SQLNamespace } from '@codemirror/lang-sql';
import CodeMirror, { EditorView, keymap, Prec } from '@uiw/react-codemirror';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import type { ColumnView, QueryResult } from '../api/types.ts';
import { href, replaceHash } from '../app/routing.ts';
import { ErrorMessage } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';
import { download, toCsv } from './csv.ts';
import { clearHistory, readHistory, remember, type HistoryEntry } from './query-history.ts';
import { ResultChart } from './result-chart.tsx';
import { ResultsGrid } from './results-grid.tsx';

const DEFAULT_SQL =
  'SELECT state, count(*) AS patients\nFROM clinical.patients\nGROUP BY ALL\nORDER BY 2 DESC';

/** `{clinical: {patients: [columns…]}}`: what the completion offers. */
function completionSchema(tables: { name: string; columns?: ColumnView[] }[]): SQLNamespace {
  const schema: Record<string, Record<string, string[]>> = {};
  for (const table of tables) {
    const [namespace, name] = table.name.includes('.') ? table.name.split('.', 2) : ['main', table.name];
    (schema[namespace!] ??= {})[name!] = (table.columns ?? []).map((column) => column.name);
  }
  return schema;
}

async function loadVisibleTables() {
  const tables = await api.tables();
  return Promise.all(
    tables.map(async (table) => ({
      name: table.name,
      columns: table.columns ?? (await api.table(table.name).catch(() => undefined))?.columns ?? [],
    })),
  );
}

export default function EditorPage({ params }: { params: URLSearchParams }) {
  const [sql, setSql] = useState(() => params.get('sql') ?? DEFAULT_SQL);
  const [result, setResult] = useState<QueryResult>();
  const [error, setError] = useState<Error>();
  const [running, setRunning] = useState(false);
  const [elapsedMs, setElapsedMs] = useState<number>();
  const [view, setView] = useState<'grid' | 'chart'>('grid');
  const [history, setHistory] = useState<HistoryEntry[]>(readHistory);
  const [copied, setCopied] = useState(false);
  const controller = useRef<AbortController | undefined>(undefined);
  const sqlRef = useRef(sql);
  sqlRef.current = sql;
  const tables = useApi(loadVisibleTables, []);

  const run = async () => {
    const text = sqlRef.current.trim();
    if (!text || controller.current) return;
    const abort = new AbortController();
    controller.current = abort;
    setRunning(true);
    setError(undefined);
    replaceHash(href.query(text));
    const started = performance.now();
    try {
      const answer = await api.query(text, { signal: abort.signal });
      setResult(answer);
      setElapsedMs(Math.round(performance.now() - started));
      setHistory(
        remember({ sql: text, at: new Date().toISOString(), outcome: `${answer.rows.length} rows` }),
      );
    } catch (caught) {
      const cancelled = abort.signal.aborted;
      const failure = cancelled
        ? new Error('Query cancelled.')
        : caught instanceof Error
          ? caught
          : new Error(String(caught));
      setError(failure);
      setResult(undefined);
      setHistory(remember({ sql: text, at: new Date().toISOString(), outcome: failure.message }));
    } finally {
      controller.current = undefined;
      setRunning(false);
    }
  };
  const runRef = useRef(run);
  runRef.current = run;

  const extensions = useMemo(
    () => [
      sqlLanguage({
        dialect: PostgreSQL,
        schema: completionSchema(tables.data ?? []),
        upperCaseKeywords: true,
      }),
      // Above the default keymap, which would otherwise insert a line break.
      Prec.highest(
        keymap.of([
          {
            key: 'Mod-Enter',
            run: () => {
              void runRef.current();
              return true;
            },
          },
        ]),
      ),
      EditorView.contentAttributes.of({ 'aria-label': 'SQL' }),
      EditorView.lineWrapping,
    ],
    [tables.data],
  );

  useEffect(() => () => controller.current?.abort(), []);

  const downloadCsv = async () => {
    if (!result) return;
    try {
      // A truncated result is fetched again whole, as CSV written by the server.
      const blob = result.truncated
        ? await api.queryCsv(sqlRef.current)
        : new Blob([toCsv(result)], { type: 'text/csv;charset=utf-8' });
      download(blob, 'query-result.csv');
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    }
  };

  const share = async () => {
    const link = new URL(href.query(sqlRef.current), window.location.href).toString();
    replaceHash(href.query(sqlRef.current));
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      // No clipboard permission (plain HTTP): the address bar holds the link now.
      setCopied(false);
    }
  };

  return (
    <section aria-labelledby="editor-title" className="editor-page">
      <h1 id="editor-title">SQL editor</h1>
      <p className="muted">
        Every query runs as you, through the same masks, row filters and audit as everywhere else. Ctrl-Enter
        runs.
      </p>
      <div className="editor">
        <CodeMirror
          value={sql}
          height="180px"
          extensions={extensions}
          onChange={(value) => {
            setSql(value);
            setCopied(false);
          }}
          basicSetup={{ autocompletion: true }}
        />
      </div>
      {tables.error && <ErrorMessage error={tables.error} />}
      <div className="actions" role="toolbar" aria-label="Query actions">
        <button type="button" onClick={() => void run()} disabled={running}>
          Run
        </button>
        <button type="button" onClick={() => controller.current?.abort()} disabled={!running}>
          Cancel
        </button>
        <button type="button" onClick={() => void downloadCsv()} disabled={!result}>
          Download CSV
        </button>
        <button type="button" onClick={() => void share()}>
          Copy link
        </button>
        {copied && <span role="status">Link copied.</span>}
      </div>
      <div aria-live="polite">
        {running && <p role="status">Running…</p>}
        {error && (
          <p role="alert" className="error">
            {error instanceof ApiError ? `${error.message} (${error.code})` : error.message}
          </p>
        )}
        {result && !running && (
          <p role="status" className="muted">
            {result.rows.length.toLocaleString()} rows
            {result.truncated ? ' (more exist; the first shown)' : ''}
            {elapsedMs !== undefined && ` in ${elapsedMs} ms`}
          </p>
        )}
      </div>
      {result && (
        <>
          <div role="tablist" aria-label="Result view" className="tabs">
            <button type="button" role="tab" aria-selected={view === 'grid'} onClick={() => setView('grid')}>
              Grid
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={view === 'chart'}
              onClick={() => setView('chart')}
            >
              Chart
            </button>
          </div>
          <div role="tabpanel" aria-label={view === 'grid' ? 'Grid' : 'Chart'}>
            {view === 'grid' ? <ResultsGrid result={result} /> : <ResultChart result={result} />}
          </div>
        </>
      )}
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        {history.length === 0 ? (
          <p className="muted">The queries you run are kept here, in this browser.</p>
        ) : (
          <>
            <ol className="history" aria-label="Query history">
              {history.map((entry) => (
                <li key={entry.at + entry.sql}>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => {
                      setSql(entry.sql);
                      replaceHash(href.query(entry.sql));
                    }}
                  >
                    <code>{entry.sql.length > 120 ? entry.sql.slice(0, 119) + '…' : entry.sql}</code>
                  </button>
                  <span className="muted">
                    {' '}
                    {new Date(entry.at).toLocaleString()} · {entry.outcome}
                  </span>
                </li>
              ))}
            </ol>
            <button
              type="button"
              onClick={() => {
                clearHistory();
                setHistory([]);
              }}
            >
              Clear history
            </button>
          </>
        )}
      </section>
    </section>
  );
}
