import * as React from 'react';

import { IComparisonRow } from '../types_scenario_steps';

function value(v: number | null): string {
  return v === null || v === undefined ? '—' : String(Number(v.toPrecision(6)));
}

/** A compare step's verdict per metric: candidate versus champion, the rule, pass or fail. */
export function ComparisonTable(props: { rows: IComparisonRow[]; testid: string }): JSX.Element {
  return (
    <table className="jp-mlprod-table jp-mlprod-comparison" data-testid={props.testid}>
      <thead>
        <tr>
          <th>metric</th>
          <th>candidate</th>
          <th>champion</th>
          <th>rule</th>
          <th>result</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(r => (
          <tr key={r.metric} data-testid={`${props.testid}-${r.metric}`} data-passed={String(r.passed)}>
            <td><code>{r.metric}</code></td>
            <td className="jp-mlprod-value">{value(r.candidate)}</td>
            <td className="jp-mlprod-value">{r.champion === null ? 'no champion' : value(r.champion)}</td>
            <td>{r.rule}</td>
            <td>
              <span className="jp-mlprod-badge" data-status={r.passed ? 'succeeded' : 'failed'}>
                {r.passed ? 'pass' : 'fail'}
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
