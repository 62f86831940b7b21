import { LabIcon } from '@jupyterlab/ui-components';

/** A small DAG: three nodes and their edges, in the theme's icon colour. */
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="3" width="8" height="6" rx="1.5"/>
    <rect x="14" y="3" width="8" height="6" rx="1.5"/>
    <rect x="8" y="15" width="8" height="6" rx="1.5"/>
    <path d="M6 9v2.5a1 1 0 0 0 1 1h3.3v2.5h1.4v-3.9H7.4V9zM18 9v2.5a1 1 0 0 1-1 1h-3.3v2.5h-1.4v-3.9h4.3V9z"/>
  </g>
</svg>`;

export const mlprodIcon = new LabIcon({ name: 'jupyter-mlprod:icon', svgstr: svg });

function glyph(name: string, path: string): LabIcon {
  return new LabIcon({
    name: `jupyter-mlprod:${name}`,
    svgstr: `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="${path}"/></g></svg>`
  });
}

/** A package box: a bundle. */
export const bundleIcon = glyph(
  'bundle',
  'M12 2 3 6.5v11L12 22l9-4.5v-11L12 2zm0 2.2 6.6 3.3L12 10.8 5.4 7.5 12 4.2zM5 9.1l6 3v7.6l-6-3V9.1zm8 10.6v-7.6l6-3v7.6l-6 3z'
);

/** A plug: an endpoint serving requests. */
export const endpointIcon = glyph(
  'endpoint',
  'M16 7V3h-2v4h-4V3H8v4H7c-1 0-1 1-1 1v5.5L9.5 17v4h5v-4l3.5-3.5V8c0-1-1-1-1-1h-1z'
);

/** A calendar: scenarios (triggers, schedules). */
export const scenarioIcon = glyph(
  'scenario',
  'M19 4h-1V2h-2v2H8V2H6v2H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2V6c0-1.1-.9-2-2-2zm0 16H5V10h14v10zM7 12h5v5H7z'
);

/** Bars in a frame: monitoring (drift per feature, live performance). */
export const monitoringIcon = glyph(
  'monitoring',
  'M19 3H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2zm0 16H5V5h14v14zM7 12h2v5H7zm8-5h2v10h-2zm-4 7h2v3h-2zm0-4h2v2h-2z'
);
