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
