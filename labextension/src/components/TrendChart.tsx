import * as React from 'react';

import { formatParameters, formatTime } from '../format';
import { IMetricSeries } from '../types_metrics';
import { themeColors, themeConfig, VegaChart, VisualizationSpec } from './VegaChart';

function spec(series: IMetricSeries): VisualizationSpec {
  const { brand, bad } = themeColors();
  const values = series.points
    .filter(p => p.value !== null)
    .map(p => ({
      run: p.run_id,
      value: p.value,
      status: p.step_status ?? p.run_status,
      parameters: formatParameters(p.parameters) || '—',
      at: formatTime(p.at)
    }));
  const x = {
    field: 'run',
    type: 'ordinal',
    title: 'run',
    axis: { labelAngle: 0 }
  };
  const y = {
    field: 'value',
    type: 'quantitative',
    title: null,
    scale: { zero: false },
    axis: { tickCount: 4, format: '~g' }
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 'container',
    height: 80,
    autosize: { type: 'fit-x', contains: 'padding' },
    config: themeConfig(),
    data: { values },
    layer: [
      {
        mark: { type: 'line', color: brand, strokeWidth: 1.5 },
        encoding: { x, y }
      },
      {
        mark: { type: 'point', filled: true, size: 50, cursor: 'pointer' },
        encoding: {
          x,
          y,
          color: {
            condition: { test: "datum.status === 'failed'", value: bad },
            value: brand
          },
          tooltip: [
            { field: 'run', title: 'run' },
            { field: 'value', title: series.metric, format: '.4~g' },
            { field: 'status', title: 'step' },
            { field: 'parameters', title: 'parameters' },
            { field: 'at', title: 'time' }
          ]
        }
      }
    ]
  } as VisualizationSpec;
}

/** One metric across runs (vega-lite); a click on a point opens its run. */
export function TrendChart(props: {
  series: IMetricSeries;
  onOpenRun: (runId: number) => void;
}): JSX.Element {
  return (
    <VegaChart
      className="jp-mlprod-trend"
      testid={`mlprod-trend-${props.series.metric}`}
      spec={() => spec(props.series)}
      onClick={datum => {
        if (typeof datum.run === 'number') {
          props.onOpenRun(datum.run);
        }
      }}
    />
  );
}
