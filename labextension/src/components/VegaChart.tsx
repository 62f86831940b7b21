import * as React from 'react';
import type { Result, VisualizationSpec } from 'vega-embed';

export type { VisualizationSpec } from 'vega-embed';

/** A JupyterLab theme CSS variable read now, so a chart drawn in the dark theme is dark. */
export function themeVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** The theme colours charts use, read at render time. */
export function themeColors(): {
  brand: string;
  bad: string;
  warn: string;
  good: string;
  muted: string;
  quiet: string;
} {
  return {
    brand: themeVar('--jp-brand-color1', '#1976d2'),
    bad: themeVar('--jp-error-color1', '#d32f2f'),
    warn: themeVar('--jp-warn-color1', '#f57c00'),
    good: themeVar('--jp-success-color1', '#388e3c'),
    muted: themeVar('--jp-ui-font-color2', '#666'),
    quiet: themeVar('--jp-ui-font-color3', '#999')
  };
}

/** Vega config from the JupyterLab theme's CSS variables (light and dark alike). */
export function themeConfig(): Record<string, unknown> {
  const text = themeVar('--jp-ui-font-color1', '#333');
  const muted = themeVar('--jp-ui-font-color2', '#666');
  const grid = themeVar('--jp-border-color2', '#ddd');
  const font = themeVar('--jp-ui-font-family', 'sans-serif');
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
    legend: {
      labelColor: muted,
      titleColor: muted,
      labelFontSize: 10,
      titleFontSize: 10,
      titleFontWeight: 'normal'
    },
    view: { stroke: 'transparent' },
    text: { color: text }
  };
}

/** vega-embed is loaded on first use: the panel's first paint does not carry it. */
let loading: Promise<typeof import('vega-embed')> | null = null;
function vegaEmbed(): Promise<typeof import('vega-embed')> {
  loading = loading ?? import('vega-embed');
  return loading;
}

/** The theme's name, updated when the user switches theme (charts then redraw in its colours). */
function useThemeName(): string {
  const read = () => document.body.dataset.jpThemeName ?? '';
  const [name, setName] = React.useState(read);
  React.useEffect(() => {
    const observer = new MutationObserver(() => setName(read()));
    observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name'] });
    return () => observer.disconnect();
  }, []);
  return name;
}

/**
 * One vega-lite chart (SVG, themed tooltips). `spec` builds the chart when it is
 * drawn, reading the theme then; the chart is redrawn when the spec or the theme changes.
 */
export function VegaChart(props: {
  spec: () => VisualizationSpec;
  testid: string;
  className?: string;
  /** A click on a mark, with its datum. */
  onClick?: (datum: Record<string, unknown>) => void;
}): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  const click = React.useRef(props.onClick);
  click.current = props.onClick;
  const theme = useThemeName();
  const json = JSON.stringify(props.spec());
  React.useEffect(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    let result: Result | null = null;
    let stopped = false;
    void vegaEmbed()
      .then(m =>
        m.default(el, JSON.parse(json) as VisualizationSpec, {
          actions: false,
          renderer: 'svg',
          tooltip: { theme: 'custom' }
        })
      )
      .then(r => {
        if (stopped) {
          r.finalize();
          return;
        }
        result = r;
        r.view.addEventListener('click', (_event, item) => {
          const datum = (item as { datum?: Record<string, unknown> } | null)?.datum;
          if (datum && click.current) {
            click.current(datum);
          }
        });
      })
      .catch(err => {
        if (!stopped) {
          el.textContent = `chart failed: ${err instanceof Error ? err.message : String(err)}`;
        }
      });
    return () => {
      stopped = true;
      result?.finalize();
    };
  }, [json, theme]);
  return <div className={props.className ?? 'jp-mlprod-chart'} data-testid={props.testid} ref={ref} />;
}
