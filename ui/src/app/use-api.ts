/** Server state for one view: the answer of an API call, reloaded when its inputs change. */
import { useCallback, useEffect, useState } from 'react';

export interface ApiState<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload(): void;
}

export function useApi<T>(load: () => Promise<T>, inputs: unknown[]): ApiState<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) =>
        current &&
        setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...inputs, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}
