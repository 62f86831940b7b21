/**
 * Which fields of a form a person has changed, as the server names fields
 * (`name`, `triggers[0].cron`, `run.parameters.n_rows`): a form shows an error
 * only for what was typed (or after Save), and hides a field's error from the
 * moment it is edited until the server has checked the new value.
 */

function flatten(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
    if (!value.length) {
      out.set(prefix, '[]');
    }
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as { [k: string]: unknown });
    entries.forEach(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k, out));
    if (!entries.length) {
      out.set(prefix, '{}');
    }
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** The paths whose values differ between two JSON-like values. */
export function changedPaths(before: unknown, after: unknown): string[] {
  const a = flatten(before, '', new Map());
  const b = flatten(after, '', new Map());
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter(p => a.get(p) !== b.get(p));
}

/** True when an edit at `path` concerns the field `field` (same, inside, or around it). */
export function concerns(path: string, field: string): boolean {
  const within = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(outer + '.') || inner.startsWith(outer + '[');
  return within(path, field) || within(field, path);
}
