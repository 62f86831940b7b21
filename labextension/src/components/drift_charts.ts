/**
 * vega-lite specs of the Monitoring view, built at render time from the drift
 * report the server computed (themed from JupyterLab's CSS variables). Only
 * drawing here: every number and verdict comes from the server.
 */
import { IDistribution, IDriftPoint, IFeatureDrift, IPerformance } from '../types_drift';
import { themeColors, themeConfig, VisualizationSpec } from './VegaChart';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** PSI conventions the server also uses: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major. */
export const PSI_LINES = [
  { at: 0.1, label: 'moderate' },
  { at: 0.25, label: 'major' }
];

/** Statuses with no statistic to draw: shown as messages instead of bars. */
export function measured(f: IFeatureDrift): boolean {
  return f.status !== 'not_enough_data' && f.status !== 'missing_in_reference';
}

function base(height: number | { step: number }): Record<string, unknown> {
  return {
    $schema: SCHEMA,
    width: 'container',
    height,
    autosize: { type: 'fit-x', contains: 'padding' },
    config: themeConfig()
  };
}

function psiRules(axis: 'x' | 'y'): Record<string, unknown>[] {
  const { warn, bad } = themeColors();
  return PSI_LINES.map((line, i) => ({
    data: { values: [line] },
    mark: { type: 'rule', strokeDash: [4, 3], color: i === 0 ? warn : bad },
    encoding: {
      [axis]: { field: 'at', type: 'quantitative' },
      tooltip: [{ field: 'label', title: 'PSI' }, { field: 'at', title: 'threshold' }]
    }
  }));
}

function featureRows(features: IFeatureDrift[]): Record<string, unknown>[] {
  return features.filter(measured).map(f => ({
    feature: f.name,
    psi: f.psi,
    statistic: f.statistic,
    p_value: f.p_value,
    threshold: f.threshold,
    // A threshold on the statistic (distances); tests with a p-value are judged on it.
    statistic_threshold: f.p_value === null || f.p_value === undefined ? f.threshold : null,
    test: f.test,
    status: f.status,
    drift: f.drift ? 'drift' : 'no drift'
  }));
}

function featureAxis(features: IFeatureDrift[]): Record<string, unknown> {
  const { bad, muted } = themeColors();
  const drifting = features.filter(f => f.drift).map(f => f.name);
  return {
    field: 'feature',
    type: 'nominal',
    title: null,
    sort: null,
    axis: {
      labelLimit: 110,
      labelColor: {
        condition: { test: `indexof(${JSON.stringify(drifting)}, datum.value) >= 0`, value: bad },
        value: muted
      },
      labelFontWeight: {
        condition: { test: `indexof(${JSON.stringify(drifting)}, datum.value) >= 0`, value: 'bold' },
        value: 'normal'
      }
    }
  };
}

const FEATURE_TOOLTIP = [
  { field: 'feature' },
  { field: 'psi', title: 'PSI', format: '.4~g' },
  { field: 'test' },
  { field: 'statistic', format: '.4~g' },
  { field: 'p_value', title: 'p-value', format: '.3~g' },
  { field: 'threshold', format: '.3~g' },
  { field: 'status' }
];

/** PSI per feature as bars, the 0.1 / 0.25 lines, drifting features in the error colour. */
export function psiSpec(features: IFeatureDrift[]): VisualizationSpec {
  const { brand, warn, bad } = themeColors();
  return {
    ...base({ step: 16 }),
    data: { values: featureRows(features) },
    layer: [
      {
        mark: { type: 'bar', cursor: 'pointer' },
        encoding: {
          y: featureAxis(features),
          x: { field: 'psi', type: 'quantitative', title: 'PSI', axis: { tickCount: 4 } },
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['ok', 'warning', 'error'], range: [brand, warn, bad] },
            legend: null
          },
          tooltip: FEATURE_TOOLTIP
        }
      },
      ...psiRules('x')
    ]
  } as VisualizationSpec;
}

/**
 * The drift test's statistic per feature (features of one test: statistics of different
 * tests do not share a scale); a tick at the threshold where it applies to the statistic.
 */
export function statisticSpec(features: IFeatureDrift[]): VisualizationSpec {
  const { brand, bad, muted } = themeColors();
  return {
    ...base({ step: 16 }),
    data: { values: featureRows(features) },
    encoding: { y: featureAxis(features) },
    layer: [
      {
        mark: { type: 'bar', cursor: 'pointer' },
        encoding: {
          x: { field: 'statistic', type: 'quantitative', title: `${features[0]?.test ?? 'test'} statistic`, axis: { tickCount: 4 } },
          color: {
            field: 'drift',
            type: 'nominal',
            scale: { domain: ['no drift', 'drift'], range: [brand, bad] },
            legend: null
          },
          tooltip: FEATURE_TOOLTIP
        }
      },
      {
        transform: [{ filter: 'datum.statistic_threshold !== null' }],
        mark: { type: 'tick', color: muted, thickness: 2 },
        encoding: {
          x: { field: 'statistic_threshold', type: 'quantitative' },
          tooltip: [{ field: 'feature' }, { field: 'statistic_threshold', title: 'threshold' }]
        }
      }
    ]
  } as VisualizationSpec;
}

function number(v: unknown): string {
  return typeof v === 'number' ? Number(v.toPrecision(3)).toString() : String(v);
}

/** Bin labels: edges (one more than shares) give ranges; categories are their names. */
function binLabels(d: IDistribution): string[] {
  const bins = d.bins as unknown[];
  if (bins.length === d.share.length + 1) {
    return d.share.map((_, i) => `${number(bins[i])}–${number(bins[i + 1])}`);
  }
  return d.share.map((_, i) => (i < bins.length ? number(bins[i]) : `bin ${i + 1}`));
}

/** Reference vs live shares per bin, grouped bars. */
export function distributionSpec(reference: IDistribution, live: IDistribution): VisualizationSpec {
  const { brand, quiet } = themeColors();
  const values: Record<string, unknown>[] = [];
  const add = (d: IDistribution, source: string) =>
    binLabels(d).forEach((bin, i) => values.push({ bin, order: i, source, share: d.share[i] }));
  add(reference, 'reference');
  add(live, 'live');
  return {
    ...base(120),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'bin',
        type: 'ordinal',
        title: null,
        sort: { field: 'order' },
        axis: { labelAngle: -40, labelLimit: 70 }
      },
      xOffset: { field: 'source', sort: ['reference', 'live'] },
      y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '~%', tickCount: 4 } },
      color: {
        field: 'source',
        type: 'nominal',
        title: null,
        scale: { domain: ['reference', 'live'], range: [quiet, brand] },
        legend: { orient: 'top' }
      },
      tooltip: [{ field: 'source' }, { field: 'bin' }, { field: 'share', format: '.1%' }]
    }
  } as VisualizationSpec;
}

/** PSI of one feature over time, with the 0.1 / 0.25 lines; drifting points in red. */
export function historySpec(points: IDriftPoint[]): VisualizationSpec {
  const { brand, bad } = themeColors();
  const values = points.map(p => ({ ...p, drift: p.drift ? 'drift' : 'no drift' }));
  const times = points.map(p => Date.parse(p.at));
  const span = times.length ? Math.max(...times) - Math.min(...times) : 0;
  const x = {
    field: 'at',
    type: 'temporal',
    title: null,
    scale: { padding: 10 },
    axis: { tickCount: 4, labelOverlap: true, format: span > 2 * 86400e3 ? '%d %b' : '%H:%M:%S' }
  };
  const y = { field: 'psi', type: 'quantitative', title: 'PSI', axis: { tickCount: 4 } };
  return {
    ...base(100),
    layer: [
      { data: { values }, mark: { type: 'line', color: brand, strokeWidth: 1.5 }, encoding: { x, y } },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x,
          y,
          color: {
            field: 'drift',
            type: 'nominal',
            scale: { domain: ['no drift', 'drift'], range: [brand, bad] },
            legend: null
          },
          tooltip: [
            { field: 'at', type: 'temporal', timeUnit: 'yearmonthdatehoursminutes', title: 'time' },
            { field: 'psi', title: 'PSI', format: '.4~g' },
            { field: 'statistic', format: '.4~g' },
            { field: 'drift' }
          ]
        }
      },
      ...psiRules('y')
    ]
  } as VisualizationSpec;
}

/** Observed rate against predicted probability per bin; the diagonal is perfect calibration. */
export function calibrationSpec(perf: IPerformance): VisualizationSpec {
  const { brand, quiet } = themeColors();
  const unit = { domain: [0, 1] };
  const x = { field: 'predicted', type: 'quantitative', title: 'predicted', scale: unit };
  const y = { field: 'observed', type: 'quantitative', title: 'observed', scale: unit };
  return {
    ...base(140),
    layer: [
      {
        data: { values: [{ a: 0, b: 1 }] },
        mark: { type: 'rule', color: quiet, strokeDash: [4, 3] },
        encoding: {
          x: { field: 'a', type: 'quantitative', scale: unit, title: 'predicted' },
          y: { field: 'a', type: 'quantitative', scale: unit, title: 'observed' },
          x2: { field: 'b' },
          y2: { field: 'b' }
        }
      },
      {
        data: { values: perf.calibration },
        mark: { type: 'line', color: brand, point: { filled: true, color: brand } },
        encoding: {
          x,
          y,
          tooltip: [
            { field: 'bin' },
            { field: 'predicted', format: '.3~g' },
            { field: 'observed', format: '.3~g' },
            { field: 'count' }
          ]
        }
      }
    ]
  } as VisualizationSpec;
}
