/** Suggestions for a misspelled name: the known names closest to it. */

/** The Levenshtein distance of two strings. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Up to `count` names close to `name`, closest first: by edit distance, ignoring case, leading
 * dashes and `-`/`_`; a name that contains `name` counts as close.
 */
export function closest(name: string, names: readonly string[], count = 3): string[] {
  const key = (s: string): string => s.toLowerCase().replace(/^-+/, '').replace(/[-_]/g, '');
  const wanted = key(name);
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return names
    .map((candidate) => ({ candidate, d: distance(wanted, key(candidate)) }))
    .filter(({ candidate, d }) => d <= limit || (wanted.length >= 3 && key(candidate).includes(wanted)))
    .sort((x, y) => x.d - y.d || x.candidate.localeCompare(y.candidate))
    .slice(0, count)
    .map(({ candidate }) => candidate);
}


