import * as React from 'react';

/** "1.2 s", "3 min 4 s", or an em dash. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || isNaN(seconds)) {
    return '—';
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const min = Math.floor(seconds / 60);
  const sec = Math.round(seconds - min * 60);
  if (min < 60) {
    return `${min} min ${sec} s`;
  }
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** Local date-time of an ISO-8601 string, compact. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  const today = new Date();
  const time = date.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  });
  if (date.toDateString() === today.toDateString()) {
    return time;
  }
  return `${date.toLocaleDateString()} ${time}`;
}

/** `{"C": 0.5}` as `C=0.5`, for a table cell. */
export function formatParameters(params: { [key: string]: unknown }): string {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) {
    return '—';
  }
  return entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
}

/**
 * `cell 3/7` while a step runs: 1-based, counting every cell papermill
 * executes (same text as the CLI); '' when unknown.
 */
export function cellProgress(cell: {
  index: number | null;
  count: number | null;
} | null): string {
  if (!cell || cell.count === null || cell.count === undefined) {
    return '';
  }
  const index = cell.index === null || cell.index === undefined ? 0 : cell.index + 1;
  return `cell ${index}/${cell.count}`;
}

/** Human text of a status string: `up_to_date` -> `up to date`. */
export function statusLabel(status: string | null | undefined): string {
  return status ? status.replace(/_/g, ' ') : 'never run';
}

/**
 * Call `fn` now and then every `ms` while `active`; the latest `fn` is used.
 * Stops on unmount. Overlapping calls are skipped.
 */
export function usePoll(
  fn: () => Promise<void>,
  ms: number,
  active: boolean
): void {
  const ref = React.useRef(fn);
  ref.current = fn;
  React.useEffect(() => {
    if (!active) {
      return;
    }
    let busy = false;
    let stopped = false;
    const tick = async () => {
      if (busy || stopped) {
        return;
      }
      busy = true;
      try {
        await ref.current();
      } finally {
        busy = false;
      }
    };
    void tick();
    const handle = window.setInterval(tick, ms);
    return () => {
      stopped = true;
      window.clearInterval(handle);
    };
  }, [ms, active]);
}

/** A visible error box (role=alert) or nothing. */
export function ErrorBox(props: {
  error: string | null;
  testid?: string;
}): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  return (
    <div
      className="jp-mlprod-error"
      role="alert"
      data-testid={props.testid ?? 'mlprod-error'}
    >
      {props.error}
    </div>
  );
}

/** "1.2 MB", "340 B". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || isNaN(n)) {
    return '—';
  }
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  for (const unit of ['B', 'KB', 'MB', 'GB']) {
    if (v < 1024 || unit === 'GB') {
      return `${sign}${unit === 'B' ? v : v.toFixed(1)} ${unit}`;
    }
    v /= 1024;
  }
  return `${n} B`;
}
