import * as React from 'react';
import embed, { Result, VisualizationSpec } from 'vega-embed';

import { formatParameters, formatTime } from '../format';
import { IMetricSeries } from '../types_metrics';

/** Vega config from the JupyterLab theme's CSS variables (light and dark alike). */
function themeConfig(): Record<string, unknown> {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) =>
    css.getPropertyValue(name).trim() || fallback;
  const text = v('--jp-ui-font-color1', '#333');
  const muted = v('--jp-ui-font-color2', '#666');
  const grid = v('--jp-border-color2', '#ddd');
  const font = v('--jp-ui-font-family', 'sans-serif');
  return {
    background: 'transparent',
    font,
    axis: {
      labelColor: muted,
      titleColor: muted,
      gridColor: grid,
      domainColor: grid,
      tickColor: grid,
      labelFontSize: 10,
      titleFontSize: 10,
      titleFontWeight: 'normal'
    },
    view: { stroke: 'transparent' },
    text: { color: text }
  };
}

function spec(series: IMetricSeries): VisualizationSpec {
  const css = getComputedStyle(document.body);
  const brand = css.getPropertyValue('--jp-brand-color1').trim() || '#1976d2';
  const bad = css.getPropertyValue('--jp-error-color1').trim() || '#d32f2f';
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

/** One metric across runs (vega-embed); a click on a point opens its run. */
export function TrendChart(props: {
  series: IMetricSeries;
  onOpenRun: (runId: number) => void;
}): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  const open = React.useRef(props.onOpenRun);
  open.current = props.onOpenRun;
  React.useEffect(() => {
    if (!ref.current) {
      return;
    }
    let result: Result | null = null;
    let stopped = false;
    void embed(ref.current, spec(props.series), {
      actions: false,
      renderer: 'svg',
      tooltip: { theme: 'custom' }
    }).then(r => {
      if (stopped) {
        r.finalize();
        return;
      }
      result = r;
      r.view.addEventListener('click', (_event, item) => {
        const datum = (item as { datum?: { run?: number } } | null)?.datum;
        if (datum && typeof datum.run === 'number') {
          open.current(datum.run);
        }
      });
    });
    return () => {
      stopped = true;
      result?.finalize();
    };
  }, [props.series]);
  return (
    <div
      className="jp-mlprod-trend"
      data-testid={`mlprod-trend-${props.series.metric}`}
      ref={ref}
    />
  );
}
