import * as fs from 'fs';

/** Every `*.k8s.yaml` file under `dir`, relative, sorted. */
export function yamlFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.k8s.yaml')).sort();
}

/** The median of some measurements. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value after `name` on a command line, or `fallback`. */
export function argValue(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/** `--runs N` of a command line, a whole number of at least 1 (default 5). */
export function runsArg(args: readonly string[]): number {
  return positiveInteger('--runs', argValue(args, '--runs', '5'));
}

/** `value` as a whole number of at least 1; throws naming the option otherwise. */
export function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`bench: '${name}' must be a whole number of at least 1, got ${value}`);
  }
  return n;
}
