import { requestAPI } from './handler';
import { q } from './rest';
import { IDriftHistory, IDriftReport } from './types_drift';

/** The drift calls the panel makes; one line each, no rules. */
export const driftApi = {
  /** `window`: a number of requests ("1000") or hours ("1h", "24h"); no `version`: the
   * server's primary one (the report names it). */
  report: (name: string, version: string | null, window: string) =>
    requestAPI<IDriftReport>(
      `endpoints/${q(name)}/drift?window=${q(window)}` + (version ? `&version=${q(version)}` : '')
    ),
  history: (name: string, version: string, feature: string) =>
    requestAPI<IDriftHistory>(
      `endpoints/${q(name)}/drift/history?version=${q(version)}&feature=${q(feature)}`
    )
};
