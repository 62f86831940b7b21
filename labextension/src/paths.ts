import { PageConfig } from '@jupyterlab/coreutils';

import { api } from './handler';

/**
 * Paths in the REST API are relative to the mlprod PROJECT folder; JupyterLab's
 * (file browser, docmanager) are relative to the SERVER root. They differ when
 * `MlprodApp.project_root` points at a sub-folder of the server's root_dir.
 * This only translates between the two; the server checks everything else.
 */
let prefix: Promise<string> | null = null;

function trimSlashes(p: string): string {
  return p.replace(/\\/g, '/').replace(/\/+$/, '');
}

/** The project's folder relative to the server root ('' when they are the same). */
export function projectPrefix(): Promise<string> {
  if (!prefix) {
    prefix = api
      .project()
      .then(project => {
        const serverRoot = trimSlashes(PageConfig.getOption('serverRoot'));
        const root = trimSlashes(project.root);
        if (serverRoot && root.startsWith(serverRoot + '/')) {
          return root.slice(serverRoot.length + 1);
        }
        return '';
      })
      .catch(() => {
        prefix = null; // try again next time
        return '';
      });
  }
  return prefix;
}

/** A project-relative path (from the API) as a server path (for docmanager). */
export async function toServerPath(projectPath: string): Promise<string> {
  const p = await projectPrefix();
  return p ? `${p}/${projectPath}` : projectPath;
}

/** A server path (from the file browser) as a project-relative path (for the API). */
export async function toProjectPath(serverPath: string): Promise<string> {
  const p = await projectPrefix();
  if (p && serverPath.startsWith(p + '/')) {
    return serverPath.slice(p.length + 1);
  }
  return serverPath;
}
