// The escape hatches of PodExtensions, merged into the pods the library generates and checked at
// synth time. Not part of the public API.
import { k8s } from '../../imports/k8s';
import daemonFlags from '../data/vitess-daemon-flags.json';
import type { VitessRelease } from '../release';
import type { PodExtensions } from '../workload-options';

/**
 * A container as a construct states it: everything but the image pull policy and the security
 * context, which vitessPodTemplate (pod-skeleton.ts) sets alike in every container.
 */
export type ContainerSpec = Omit<k8s.Container, 'imagePullPolicy' | 'securityContext'>;

/** Each release's daemon flags, as `lib/data/vitess-daemon-flags.json` lists them. */
const DAEMON_FLAGS: { readonly [version: string]: { readonly binaries: { readonly [binary: string]: readonly string[] } } } = daemonFlags;

/**
 * The flags of a Vitess daemon in a release (`--name`, as the release's help prints them), or
 * undefined where `lib/data/vitess-daemon-flags.json` has no list of that binary in that release.
 */
export function daemonFlagNames(release: VitessRelease, binary: string): readonly string[] | undefined {
  return DAEMON_FLAGS[release.version]?.binaries[binary];
}

/** Where a container's binary sits in the vitess/lite images. */
const VITESS_BIN = '/vt/bin/';

/** A pod's containers, volumes, labels and annotations after {@link applyPodExtensions}. */
export interface ExtendedPod {
  /** The library's containers, with the flags, environment and mounts. */
  readonly containers: ContainerSpec[];
  /** The sidecars, as given. */
  readonly sidecars: k8s.Container[];
  readonly initContainers: k8s.Container[] | undefined;
  readonly volumes: k8s.Volume[] | undefined;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string } | undefined;
}

/**
 * Merges `extensions` into a pod: the flags into the containers that run each binary, the
 * environment and mounts into every container, then the volumes, sidecars, init containers,
 * labels and annotations; throws, under `context`, on a clash with what the library set.
 */
export function applyPodExtensions(
  context: string,
  release: VitessRelease | undefined,
  extensions: PodExtensions,
  pod: {
    readonly containers: readonly ContainerSpec[];
    readonly volumes: readonly k8s.Volume[] | undefined;
    readonly labels: { readonly [key: string]: string };
    readonly annotations: { readonly [key: string]: string } | undefined;
    /**
     * Annotations over `annotations` that `podAnnotations` must not change (a different value is
     * an error), and what they are for, said in the error.
     * @default - none: `podAnnotations` may replace any of `annotations`
     */
    readonly fixedAnnotations?: { readonly values: { readonly [key: string]: string }; readonly purpose: string };
  },
): ExtendedPod {
  let containers = pod.containers.map((c) => ({ ...c }));
  if (extensions.extraFlags !== undefined) {
    containers = mergeExtraFlags(context, release, containers, extensions.extraFlags);
  }
  if (extensions.extraEnv !== undefined) {
    const names = extensions.extraEnv.map((e) => e.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) {
      throw new Error(`${context}: 'extraEnv' names the variable '${repeated}' more than once`);
    }
    containers = containers.map((c) => ({
      ...c,
      env: [...(c.env ?? []).filter((e) => !names.includes(e.name)), ...extensions.extraEnv!],
    }));
  }
  const volumes = [...(pod.volumes ?? [])];
  for (const volume of extensions.extraVolumes ?? []) {
    if (volumes.some((v) => v.name === volume.name)) {
      throw new Error(`${context}: 'extraVolumes' has a volume named '${volume.name}', which the library's pods already have`);
    }
    volumes.push(volume);
  }
  if (extensions.extraVolumeMounts !== undefined) {
    for (const mount of extensions.extraVolumeMounts) {
      if (!volumes.some((v) => v.name === mount.name)) {
        throw new Error(
          `${context}: 'extraVolumeMounts' mounts the volume '${mount.name}', which is neither the library's nor in 'extraVolumes' (${volumes.map((v) => v.name).join(', ') || 'none'})`,
        );
      }
    }
    containers = containers.map((c) => {
      for (const mount of extensions.extraVolumeMounts!) {
        const taken = (c.volumeMounts ?? []).find((m) => m.mountPath === mount.mountPath);
        if (taken) {
          throw new Error(`${context}: 'extraVolumeMounts' mounts '${mount.name}' at ${mount.mountPath}, where container '${c.name}' already mounts '${taken.name}'`);
        }
      }
      return { ...c, volumeMounts: [...(c.volumeMounts ?? []), ...extensions.extraVolumeMounts!] };
    });
  }
  const names = containers.map((c) => c.name);
  const sidecars: k8s.Container[] = [];
  for (const sidecar of extensions.sidecars ?? []) {
    if (names.includes(sidecar.name)) {
      throw new Error(`${context}: 'sidecars' has a container named '${sidecar.name}', which the pods already have`);
    }
    names.push(sidecar.name);
    sidecars.push(sidecar);
  }
  for (const init of extensions.initContainers ?? []) {
    if (names.includes(init.name)) {
      throw new Error(`${context}: 'initContainers' has a container named '${init.name}', which the pods already have`);
    }
    names.push(init.name);
  }
  const labels = { ...pod.labels };
  for (const [key, value] of Object.entries(extensions.podLabels ?? {})) {
    if (key in labels) {
      throw new Error(`${context}: 'podLabels.${key}' would replace the library's label ${key}=${labels[key]}, which selects the pods`);
    }
    labels[key] = value;
  }
  const fixed = pod.fixedAnnotations;
  const base = fixed !== undefined ? { ...pod.annotations, ...fixed.values } : pod.annotations;
  for (const [key, value] of Object.entries(extensions.podAnnotations ?? {})) {
    if (fixed !== undefined && key in fixed.values && fixed.values[key] !== value) {
      throw new Error(
        `${context}: 'podAnnotations.${key}' is '${value}', but the pods' annotation ${key} must be '${fixed.values[key]}', one of ${fixed.purpose}`,
      );
    }
  }
  const annotations = extensions.podAnnotations !== undefined ? { ...base, ...extensions.podAnnotations } : base && { ...base };
  return {
    containers,
    sidecars,
    initContainers: extensions.initContainers !== undefined ? [...extensions.initContainers] : undefined,
    volumes: volumes.length > 0 ? volumes : undefined,
    labels,
    annotations,
  };
}

/**
 * `extraFlags` merged into the args of the containers that run each binary (`/vt/bin/<binary>`):
 * a flag of the same name as one of the library's replaces it where it stands, the others follow
 * the library's in the order given.
 */
function mergeExtraFlags(
  context: string,
  release: VitessRelease | undefined,
  containers: ContainerSpec[],
  extraFlags: NonNullable<PodExtensions['extraFlags']>,
): ContainerSpec[] {
  const running = containers.filter((c) => c.command?.[0]?.startsWith(VITESS_BIN)).map((c) => c.command![0].slice(VITESS_BIN.length));
  for (const [binary, flags] of Object.entries(extraFlags)) {
    if (!running.includes(binary) || release === undefined) {
      throw new Error(`${context}: 'extraFlags.${binary}' names a binary that these pods do not run; they run ${running.join(', ') || 'no Vitess daemon'}`);
    }
    const known = DAEMON_FLAGS[release.version]?.binaries[binary];
    if (known === undefined) {
      throw new Error(`${context}: 'extraFlags.${binary}': no flag list of ${binary} for Vitess ${release.version}, so its flags cannot be checked`);
    }
    const rendered = Object.entries(flags).map(([key, value]) => {
      if (!/^-{0,2}[a-z][a-z0-9_-]*$/.test(key)) {
        throw new Error(`${context}: 'extraFlags.${binary}' has the flag name '${key}'; a flag name is lowercase letters, digits, '_' and '-', with or without leading dashes`);
      }
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw new Error(`${context}: 'extraFlags.${binary}.${key}' must be a string, a number or a boolean, got ${JSON.stringify(value)}`);
      }
      const arg = release.flag(key.replace(/^-+/, ''), value);
      const name = flagName(arg);
      if (!known.includes(`--${name}`)) {
        const near = closest(name, known);
        throw new Error(
          `${context}: 'extraFlags.${binary}.${key}' is not a flag of ${binary} in Vitess ${release.version}` +
            (near.length > 0 ? `; the closest are ${near.join(', ')}` : ''),
        );
      }
      return { name, arg };
    });
    containers = containers.map((c) => {
      if (c.command?.[0] !== `${VITESS_BIN}${binary}`) {
        return c;
      }
      const args = (c.args ?? []).map((arg) => rendered.find((r) => arg.startsWith('-') && flagName(arg) === r.name)?.arg ?? arg);
      const added = rendered.filter((r) => !(c.args ?? []).some((arg) => arg.startsWith('-') && flagName(arg) === r.name)).map((r) => r.arg);
      return { ...c, args: [...args, ...added] };
    });
  }
  return containers;
}

/**
 * Whether the `binary` of `release` has the flag `name` (as the library names it, e.g.
 * `mysql_server_tls_min_version`, spelled as the release spells it), by the release's flag list
 * (`lib/data/vitess-daemon-flags.json`); throws when there is no list of that binary for the release.
 */
export function daemonHasFlag(release: VitessRelease, binary: string, name: string): boolean {
  const known = DAEMON_FLAGS[release.version]?.binaries[binary];
  if (known === undefined) {
    throw new Error(`daemonHasFlag: no flag list of ${binary} for Vitess ${release.version}`);
  }
  return known.includes(`--${flagName(release.flag(name))}`);
}

/** The name of a flag argument, `--name=value` or `-name` giving `name`. */
function flagName(arg: string): string {
  return arg.replace(/^-+/, '').split('=')[0];
}

/**
 * Up to three of `names` closest to `name` (Levenshtein, ignoring dashes, `_` and `-`). The
 * validation plugin's `validation/closest.ts` is its twin (which also counts a name that contains
 * the one asked for); the plugin runs with nothing of lib/, and lib/ does not import the plugin.
 */
export function closest(name: string, names: readonly string[]): string[] {
  const key = (s: string): string => s.replace(/^-+/, '').replace(/[-_]/g, '');
  const wanted = key(name);
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return names
    .map((candidate) => ({ candidate, d: distance(wanted, key(candidate)) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.candidate.localeCompare(y.candidate))
    .slice(0, 3)
    .map(({ candidate }) => candidate);
}

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
