import * as React from 'react';

import { bundleApi } from '../api_bundles';
import { errorMessage } from '../handler';
import { ErrorBox, formatBytes } from '../format';
import { IBundleDiff, ICellChange, INamedChanges } from '../types_bundles';

/** What changed from bundle a (older) to b (newer). */
export function BundleDiffView(props: { a: string; b: string; onBack: () => void }): JSX.Element {
  const [diff, setDiff] = React.useState<IBundleDiff | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    bundleApi.diff(props.a, props.b).then(setDiff).catch(err => setError(errorMessage(err)));
  }, [props.a, props.b]);

  return (
    <div className="jp-mlprod-view" data-testid="mlprod-bundle-diff">
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-bundle-diff-back"
          onClick={props.onBack}>← Bundles</button>
        {diff && (
          <span className="jp-mlprod-title">
            <code>{diff.a.short_id}</code> → <code>{diff.b.short_id}</code>
          </span>
        )}
      </div>
      <ErrorBox error={error} testid="mlprod-bundle-diff-error" />
      {!diff && !error && <div className="jp-mlprod-hint">Comparing…</div>}
      {diff && <DiffBody diff={diff} />}
    </div>
  );
}

function DiffBody({ diff }: { diff: IBundleDiff }): JSX.Element {
  const f = diff.files;
  const p = diff.packages;
  return (
    <>
      <div className="jp-mlprod-hint" data-testid="mlprod-bundle-diff-summary">{diff.summary}</div>
      <Section title={`Files (${f.unchanged_count} unchanged)`} testid="mlprod-diff-files">
        {f.added.map(x => <Line key={x.path} change="added" text={`${x.path} · ${x.kind} · ${formatBytes(x.size)}`} />)}
        {f.removed.map(x => <Line key={x.path} change="removed" text={`${x.path} · ${x.kind} · ${formatBytes(x.size)}`} />)}
        {f.changed.map(x => (
          <Line key={x.path} change="changed"
            text={`${x.path} · ${x.kind} · ${formatBytes(x.size_before)} → ${formatBytes(x.size_after)}`} />
        ))}
        {!f.added.length && !f.removed.length && !f.changed.length && <None />}
      </Section>
      <Section title="Notebooks" testid="mlprod-diff-notebooks">
        {diff.notebooks.map(nb => (
          <details key={nb.path} open data-testid={`mlprod-diff-notebook-${nb.path}`}>
            <summary>
              <Mark change={nb.status} /> {nb.path} · +{nb.counts.added} −{nb.counts.removed} ~{nb.counts.changed} cells
              {nb.step_changed && ' · step definition changed'}
            </summary>
            {nb.cells.map((c, i) => <Cell key={i} cell={c} />)}
          </details>
        ))}
        {!diff.notebooks.length && <None />}
      </Section>
      <Section title="Parameters" testid="mlprod-diff-parameters">
        {(diff.parameters ?? []).length > 0 && (
          <table className="jp-mlprod-table jp-mlprod-sidebyside">
            <thead><tr><th>Parameter</th><th>Before</th><th>After</th></tr></thead>
            <tbody>
              {(diff.parameters ?? []).map(x => (
                <tr key={`${x.notebook}:${x.name}`} data-change={x.change} data-testid={`mlprod-diff-param-${x.name}`}>
                  <td><Mark change={x.change} /> {x.name}<div className="jp-mlprod-hint">{x.notebook}</div></td>
                  <td><Value v={x.before} absent={x.change === 'added'} /></td>
                  <td><Value v={x.after} absent={x.change === 'removed'} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {!(diff.parameters ?? []).length && <None />}
      </Section>
      <Section title="Metrics and other JSON files" testid="mlprod-diff-json">
        {(diff.json_files ?? []).map(f => (
          <details key={f.path} open data-testid={`mlprod-diff-json-${f.path}`}>
            <summary><Mark change={f.change} /> {f.path}</summary>
            {f.values.length > 0 ? (
              <table className="jp-mlprod-table jp-mlprod-sidebyside">
                <thead><tr><th>Key</th><th>Before</th><th>After</th></tr></thead>
                <tbody>
                  {f.values.map(v => (
                    <tr key={v.key} data-change={v.change} data-testid={`mlprod-diff-json-value-${v.key}`}>
                      <td><code>{v.key}</code></td>
                      <td><Value v={v.before} absent={v.change === 'added'} /></td>
                      <td><Value v={v.after} absent={v.change === 'removed'} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : <None />}
            {f.truncated && <div className="jp-mlprod-hint">only the first 200 differences are listed</div>}
          </details>
        ))}
        {!(diff.json_files ?? []).length && <None />}
      </Section>
      <Section title="Data and models" testid="mlprod-diff-data">
        {diff.data.map(d => (
          <Line key={d.path} change={d.change}
            text={`${d.path} · ${d.kind} · ${formatBytes(d.size_before)} → ${formatBytes(d.size_after)} (${d.delta >= 0 ? '+' : ''}${formatBytes(d.delta)})`} />
        ))}
        {!diff.data.length && <None />}
      </Section>
      <Section title="Packages" testid="mlprod-diff-packages">
        {diff.python && <Line change="changed" text={`Python ${diff.python.before ?? '—'} → ${diff.python.after ?? '—'}`} />}
        {p.added.map(x => <Line key={x.name} change="added" text={`${x.name} ${x.version}`} />)}
        {p.removed.map(x => <Line key={x.name} change="removed" text={`${x.name} ${x.version}`} />)}
        {p.upgraded.map(x => <Line key={x.name} change="changed" text={`${x.name} ${x.from} → ${x.to} (upgraded)`} />)}
        {p.downgraded.map(x => <Line key={x.name} change="changed" text={`${x.name} ${x.from} → ${x.to} (downgraded)`} />)}
        {!diff.python && !p.added.length && !p.removed.length && !p.upgraded.length && !p.downgraded.length && <None />}
      </Section>
      <Named title="Pipeline steps" testid="mlprod-diff-pipeline" c={diff.pipeline} />
      <Named title="Scenarios" testid="mlprod-diff-scenarios" c={diff.scenarios} />
      <Named title="Endpoints" testid="mlprod-diff-endpoints" c={diff.endpoints} />
    </>
  );
}

function Section(props: { title: string; testid: string; children: React.ReactNode }): JSX.Element {
  return (
    <div className="jp-mlprod-diffsection" data-testid={props.testid}>
      <div className="jp-mlprod-diffhead">{props.title}</div>
      {props.children}
    </div>
  );
}

function Mark({ change }: { change: string }): JSX.Element {
  const sign = change === 'added' ? '+' : change === 'removed' ? '−' : '~';
  return <span className={`jp-mlprod-diffmark jp-mod-${change}`}>{sign}</span>;
}

function Line(props: { change: string; text: string }): JSX.Element {
  return (
    <div className={`jp-mlprod-diffline jp-mod-${props.change}`} data-change={props.change}>
      <Mark change={props.change} /> {props.text}
    </div>
  );
}

function None(): JSX.Element {
  return <div className="jp-mlprod-hint">no change</div>;
}

function Named(props: { title: string; testid: string; c: INamedChanges }): JSX.Element {
  const { added, removed, changed } = props.c;
  return (
    <Section title={props.title} testid={props.testid}>
      {added.map(n => <Line key={n} change="added" text={n} />)}
      {removed.map(n => <Line key={n} change="removed" text={n} />)}
      {changed.map(n => <Line key={n} change="changed" text={n} />)}
      {!added.length && !removed.length && !changed.length && <None />}
    </Section>
  );
}

function Cell({ cell }: { cell: ICellChange }): JSX.Element {
  const where = cell.change === 'removed' ? cell.index_before : cell.index_after;
  const lines = cell.change === 'changed' && cell.diff?.length
    ? cell.diff
    : cell.source.split('\n').map(l => (cell.change === 'added' ? '+' : '-') + l);
  return (
    <div className="jp-mlprod-diffcell" data-testid="mlprod-diff-cell" data-change={cell.change}>
      <div className="jp-mlprod-hint">
        <Mark change={cell.change} /> {cell.cell_type ?? 'cell'} {where !== null ? `#${where + 1}` : ''} {cell.change}
      </div>
      <pre>
        {lines.map((l, i) => (
          <div key={i} className={l.startsWith('+') && !l.startsWith('+++') ? 'jp-mod-added'
            : l.startsWith('-') && !l.startsWith('---') ? 'jp-mod-removed' : ''}>{l}</div>
        ))}
      </pre>
    </div>
  );
}

/** A JSON value as written, or a dash where the side has none. */
function Value(props: { v: unknown; absent: boolean }): JSX.Element {
  if (props.absent) {
    return <span className="jp-mlprod-hint">—</span>;
  }
  const text = JSON.stringify(props.v);
  return <code className="jp-mlprod-value">{text === undefined ? String(props.v) : text}</code>;
}
