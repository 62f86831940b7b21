/** Shapes of scenario steps and scenario runs, generated from openapi.yaml
 * (`jlpm build:types` writes src/generated/openapi.ts): no hand-copied interfaces. */
import { components } from './generated/openapi';

type Schemas = components['schemas'];

export type StepKind = Schemas['ScenarioStepKind'];
export type StepIf = Schemas['ScenarioStepIf'];
export type IScenarioStep = Schemas['ScenarioStep'];
/** The step of one kind (`StepOf<'compare'>`). */
export type StepOf<K extends StepKind> = Extract<IScenarioStep, { kind: K }>;
export type ICheckSpec = Schemas['Check'];
export type IThreshold = Schemas['MetricThreshold'];
export type ITargetRef = Schemas['ChampionTarget'];
export type IComparisonRow = Schemas['MetricComparison'];
export type IApproval = Schemas['Approval'];
export type IScenarioStepRun = Schemas['ScenarioStepRun'];
export type IScenarioRunView = Schemas['ScenarioRunDetail'];
/** A scenario run in its scenario's list: a fire, with its steps' outcomes. */
export type IScenarioRunSummary = Schemas['Fire'];
