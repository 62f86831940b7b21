import * as React from 'react';

import { errorMessage, requestAPI } from '../handler';
import { ErrorBox, formatTime } from '../format';
import { IAuditEvent, IAuditList } from '../types_bundles';

/** What `GET /audit` adds to the bundle audit events (reason, before/after). */
interface IAuditRow extends IAuditEvent {
  reason?: string | null;
  before?: unknown;
  after?: unknown;
}

interface IAuditVerify {
  ok: boolean;
  checked: number;
  problems: { id: number | null; seq: number | null; problem: string; message: string }[];
}

interface IFilters {
  object: string;
  actor: string;
  since: string;
}

/** The audit calls of the panel; one line each, no rules. */
const auditApi = {
  list: (f: IFilters, limit = 100) => {
    const query = new URLSearchParams({ limit: String(limit) });
    for (const [key, value] of Object.entries(f)) {
      if (value.trim()) {
        query.set(key, value.trim());
      }
    }
    return requestAPI<IAuditList>(`audit?${query.toString()}`);
  },
  verify: () => requestAPI<IAuditVerify>('audit/verify')
};

const EMPTY: IFilters = { object: '', actor: '', since: '' };

function summary(value: unknown): string {
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

/** The Audit tab: who did what to which object, filterable; the chain can be checked. */
export function AuditView(): JSX.Element {
  const [draft, setDraft] = React.useState<IFilters>(EMPTY);
  const [filters, setFilters] = React.useState<IFilters>(EMPTY);
  const [list, setList] = React.useState<IAuditList | null>(null);
  const [open, setOpen] = React.useState<number | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [check, setCheck] = React.useState<IAuditVerify | null>(null);

  React.useEffect(() => {
    auditApi
      .list(filters)
      .then(r => {
        setList(r);
        setError(null);
      })
      .catch(err => setError(errorMessage(err)));
  }, [filters]);

  const field = (key: keyof IFilters, placeholder: string) => (
    <input
      className="jp-mod-styled jp-mlprod-wide"
      placeholder={placeholder}
      value={draft[key]}
      data-testid={`mlprod-audit-filter-${key}`}
      onChange={e => setDraft({ ...draft, [key]: e.target.value })}
      onKeyDown={e => e.key === 'Enter' && setFilters(draft)}
    />
  );

  return (
    <div className="jp-mlprod-auditview" data-testid="mlprod-audit-view">
      <div className="jp-mlprod-toolbar">
        {field('object', 'object (scenario:nightly, run:12)')}
        {field('actor', 'actor')}
        {field('since', 'since (12h, 7d, 2026-12-01)')}
      </div>
      <div className="jp-mlprod-toolbar">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-mlprod-small"
          data-testid="mlprod-audit-apply"
          onClick={() => setFilters({ ...draft })}
        >
          Filter
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
          data-testid="mlprod-audit-verify"
          onClick={() =>
            auditApi.verify().then(setCheck, err => setError(errorMessage(err)))
          }
        >
          Verify chain
        </button>
      </div>
      <ErrorBox error={error} testid="mlprod-audit-view-error" />
      {check && (
        <div
          className={check.ok ? 'jp-mlprod-hint' : 'jp-mlprod-error'}
          data-testid="mlprod-audit-verify-result"
        >
          {check.ok
            ? `chain intact: ${check.checked} ${check.checked === 1 ? 'event' : 'events'} checked`
            : check.problems.map(p => p.message).join('; ')}
        </div>
      )}
      {list && (
        <div className="jp-mlprod-hint" data-testid="mlprod-audit-total">
          {list.total} {list.total === 1 ? 'event' : 'events'}
        </div>
      )}
      {list && list.events.length > 0 && (
        <table className="jp-mlprod-table" data-testid="mlprod-audit-table">
          <thead>
            <tr>
              <th>when</th>
              <th>actor</th>
              <th>action</th>
              <th>object</th>
              <th>outcome</th>
            </tr>
          </thead>
          <tbody>
            {(list.events as IAuditRow[]).map(e => (
              <React.Fragment key={e.id}>
                <tr
                  data-testid={`mlprod-audit-row-${e.id}`}
                  data-status={e.outcome === 'ok' ? 'succeeded' : 'failed'}
                  onClick={() => setOpen(open === e.id ? null : e.id)}
                >
                  <td>{formatTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>
                    <code>
                      {e.object_type}
                      {e.object_id ? `:${e.object_id}` : ''}
                    </code>
                  </td>
                  <td title={e.reason ?? ''}>{e.outcome === 'ok' ? 'done' : e.outcome}</td>
                </tr>
                {open === e.id && (
                  <tr data-testid={`mlprod-audit-detail-${e.id}`}>
                    <td colSpan={5} className="jp-mlprod-hint">
                      {e.reason && <div>reason: {e.reason}</div>}
                      {e.before !== undefined && e.before !== null && (
                        <div>before: <code>{summary(e.before)}</code></div>
                      )}
                      {e.after !== undefined && e.after !== null && (
                        <div>after: <code>{summary(e.after)}</code></div>
                      )}
                      {e.host && <div>host: {e.host}</div>}
                    </td>
                  </tr>
                )}
              </React.Fragment>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
