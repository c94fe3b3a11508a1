/** The shell: sign-in gate, navigation, and the page the URL names. */
import { lazy, Suspense, useEffect, useState } from 'react';
import { storedToken, storeToken, whenUnauthorized } from '../api/client.ts';
import { SignIn } from '../auth/sign-in.tsx';
import { HealthPage } from '../health/health-page.tsx';
import { SearchPage } from '../search/search-page.tsx';
import { TablePage } from '../table/table-page.tsx';
import { TaskPage } from '../task/task-page.tsx';
import { href, useRoute, type Route } from './routing.ts';

// CodeMirror is the heaviest part: loaded only when the editor is opened.
const EditorPage = lazy(() => import('../editor/editor-page.tsx'));

export function App() {
  const [token, setToken] = useState(storedToken);
  const [notice, setNotice] = useState<string>();
  const route = useRoute();
  useEffect(() => {
    whenUnauthorized(() => {
      storeToken(null);
      setToken(null);
      setNotice('Your token is no longer accepted; sign in again.');
    });
  }, []);
  if (!token)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(accepted) => {
          storeToken(accepted);
          setNotice(undefined);
          setToken(accepted);
        }}
      />
    );
  const signOut = () => {
    storeToken(null);
    setToken(null);
  };
  return (
    <>
      <header className="top">
        <a className="brand" href={href.search()}>
          Tessera
        </a>
        <nav aria-label="Main">
          <a href={href.search()} aria-current={route.page === 'search' ? 'page' : undefined}>
            Search
          </a>
          <a href={href.query()} aria-current={route.page === 'query' ? 'page' : undefined}>
            SQL editor
          </a>
          <a href={href.health()} aria-current={route.page === 'health' ? 'page' : undefined}>
            Health
          </a>
        </nav>
        <button type="button" className="sign-out" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'search':
      return <SearchPage params={route.params} />;
    case 'table':
      return <TablePage key={route.name} name={route.name} />;
    case 'task':
      return <TaskPage key={route.name} name={route.name} />;
    case 'query':
      return (
        <Suspense fallback={<p role="status">Loading the editor…</p>}>
          <EditorPage params={route.params} />
        </Suspense>
      );
    case 'health':
      return <HealthPage />;
    case 'not-found':
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>#{route.path}</code>. <a href={href.search()}>Search the catalog</a>.
          </p>
        </section>
      );
  }
}
