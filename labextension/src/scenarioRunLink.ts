/**
 * Links to one scenario run: reporters announce a waiting approval with
 * `/lab?mlprod-scenario-run=ID`; opening it shows that scenario run in the panel.
 */
import { Signal } from '@lumino/signaling';

/** The query parameter of the link the scheduler's reporters send. */
export const SCENARIO_RUN_PARAM = 'mlprod-scenario-run';

/** Emitted (with a scenario run id) to show it in the Scenarios tab. */
export const scenarioRunShown = new Signal<object, number>({});
let pending: number | null = null;

/** Show a scenario run in the panel (also when the panel has not rendered yet). */
export function showScenarioRun(fireId: number): void {
  pending = fireId;
  scenarioRunShown.emit(fireId);
}

/** The scenario run asked for and not shown yet (left in place). */
export function pendingScenarioRun(): number | null {
  return pending;
}

/** The scenario run asked for before the Scenarios tab rendered, once. */
export function takePendingScenarioRun(): number | null {
  const fireId = pending;
  pending = null;
  return fireId;
}

/** The scenario run a page address links to (`?mlprod-scenario-run=12`), if any. */
export function linkedScenarioRun(search: string): number | null {
  const raw = new URLSearchParams(search).get(SCENARIO_RUN_PARAM);
  return raw && /^[1-9][0-9]*$/.test(raw) ? Number(raw) : null;
}
