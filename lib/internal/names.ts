// Naming and identity rules shared by the constructs. Not part of the public API.
import { createHash } from 'crypto';
import { IConstruct } from 'constructs';

/** The largest tablet UID: Vitess stores UIDs as uint32. */
export const MAX_TABLET_UID = 4294967295;

/**
 * Throws unless `cell` is a valid Vitess cell name that also fits Kubernetes object names:
 * lowercase letters and digits only (a tablet alias is split on '-', so no dashes).
 */
export function validateCellName(context: string, prop: string, cell: string): void {
  if (!/^[a-z0-9]{1,40}$/.test(cell)) {
    throw new Error(
      `${context}: '${prop}' must be 1 to 40 lowercase letters or digits ` +
        `(no '-': Vitess splits tablet aliases on it), got '${cell}'`,
    );
  }
}

/**
 * Throws unless `keyspace` is a valid keyspace name: lowercase letters, digits and '_', starting
 * with a letter (it becomes the MySQL database `vt_<keyspace>` and part of object names).
 */
export function validateKeyspaceName(context: string, prop: string, keyspace: string): void {
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(keyspace)) {
    throw new Error(
      `${context}: '${prop}' must start with a lowercase letter followed by up to 39 lowercase ` +
        `letters, digits or '_', got '${keyspace}'`,
    );
  }
}

/**
 * Throws unless `shard` is `0`, `-`, or a lowercase hex key range `start-end` with start < end.
 */
export function validateShardName(context: string, prop: string, shard: string): void {
  if (shard === '0' || shard === '-') {
    return;
  }
  const match = /^([0-9a-f]*)-([0-9a-f]*)$/.exec(shard);
  if (!match || match[1].length % 2 !== 0 || match[2].length % 2 !== 0) {
    throw new Error(
      `${context}: '${prop}' must be '0', '-' or a lowercase hex key range 'start-end' with ` +
        `whole bytes (e.g. '-80', '80-', '40-80'), got '${shard}'`,
    );
  }
  const [start, end] = [match[1], match[2]];
  // An end of all zeros is the lowest keyspace ID: nothing is below it, whatever the start.
  if (end !== '' && (/^0*$/.test(end) || (start !== '' && compareKeys(start, end) >= 0))) {
    throw new Error(`${context}: '${prop}' key range '${shard}' must have its start below its end`);
  }
}

function compareKeys(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.padEnd(width, '0');
  const pb = b.padEnd(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** The tablet alias `<cell>-<uid as %010d>`, e.g. `test-0000000100`. */
export function tabletAlias(cell: string, uid: number): string {
  return `${cell}-${String(uid).padStart(10, '0')}`;
}

/**
 * A shard name as a label value (and object name part): a leading '-' becomes 'xx-', a trailing
 * '-' becomes '-xx', as the Vitess Kubernetes example did (`-80` is `xx-80`, `80-` is `80-xx`).
 */
export function shardLabel(shard: string): string {
  let label = shard;
  if (label.endsWith('-')) {
    label = `${label}xx`;
  }
  if (label.startsWith('-')) {
    label = `xx${label}`;
  }
  return label;
}

/** A keyspace name as part of a Kubernetes object name (`test_keyspace` is `test-keyspace`). */
export function keyspaceObjectName(keyspace: string): string {
  return keyspace.replace(/_/g, '-');
}

/** A DNS-1123 label, but for its length: lowercase letters, digits and '-', a letter or digit at both ends. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Throws unless `name` is a valid DNS-1123 label (Service, StatefulSet and Job names). */
export function validateObjectName(context: string, prop: string, name: string): void {
  if (!DNS_LABEL.test(name) || name.length > 63) {
    throw new Error(
      `${context}: '${prop}' must be a DNS-1123 label (lowercase letters, digits and '-', at most ` +
        `63 characters, starting and ending with a letter or digit), got '${name}'`,
    );
  }
}

/** Throws unless `name` is a valid DNS-1123 subdomain (Secret, PriorityClass and claim names). */
export function validateSubdomainName(context: string, prop: string, name: string): void {
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253) {
    throw new Error(
      `${context}: '${prop}' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', ` +
        `at most 253 characters), got '${name}'`,
    );
  }
}

/**
 * Throws unless `key` is a valid key of a Secret or ConfigMap (`kind` names which, in the message):
 * letters, digits, '-', '_' and '.', at most 253 characters, not '.' and not starting with '..'.
 */
export function validateDataKey(context: string, prop: string, key: string, kind: 'Secret' | 'ConfigMap'): void {
  if (typeof key !== 'string' || !/^[-._a-zA-Z0-9]{1,253}$/.test(key) || key === '.' || key.startsWith('..')) {
    throw new Error(
      `${context}: '${prop}' must be a ${kind} key (1 to 253 letters, digits, '-', '_' and '.', ` +
        `not '.' and not starting with '..'), got '${key}'`,
    );
  }
}

/**
 * A shard's key range as its start and end (hex; '' is unbounded). `0` and `-` are the full range.
 * The shard name must be valid.
 */
export function keyRangeOf(shard: string): { start: string; end: string } {
  if (shard === '0' || shard === '-') {
    return { start: '', end: '' };
  }
  const [start, end] = shard.split('-');
  return { start, end };
}

/** Orders valid shard names by the start of their key range, the open start first. */
export function compareShardStarts(a: string, b: string): number {
  const [sa, sb] = [keyRangeOf(a).start, keyRangeOf(b).start];
  if (sa === '' || sb === '') {
    return sa === sb ? 0 : sa === '' ? -1 : 1;
  }
  return compareKeys(sa, sb);
}

/** Whether two key-range bounds are the same keyspace ID (`80` and `8000` are). */
function sameBound(a: string, b: string): boolean {
  return (a === '') === (b === '') && compareKeys(a, b) === 0;
}

/**
 * Throws unless the target shards cover exactly the source shard's key range, without gaps or
 * overlaps (`-80` and `80-` tile `0`). All names must be valid shard names.
 */
export function validateKeyRangeTiling(context: string, prop: string, source: string, targets: readonly string[]): void {
  const problem = (what: string): Error =>
    new Error(
      `${context}: '${prop}' must cover exactly the key range of shard '${source}' without gaps or ` +
        `overlaps (e.g. '-80' and '80-' for '0'), got [${targets.map((t) => `'${t}'`).join(', ')}]: ${what}`,
    );
  if (targets.length < 2) {
    throw problem('give at least two shards');
  }
  const ranges = [...targets].sort(compareShardStarts).map((shard) => ({ shard, ...keyRangeOf(shard) }));
  const whole = keyRangeOf(source);
  if (!sameBound(ranges[0].start, whole.start)) {
    throw problem(`the first shard '${ranges[0].shard}' does not start where '${source}' starts`);
  }
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1];
    if (previous.end === '' || !sameBound(previous.end, ranges[i].start)) {
      throw problem(`'${previous.shard}' is not followed directly by '${ranges[i].shard}'`);
    }
  }
  const last = ranges[ranges.length - 1];
  if (!sameBound(last.end, whole.end)) {
    throw problem(`the last shard '${last.shard}' does not end where '${source}' ends`);
  }
}

/**
 * Throws unless the shards, taken in key-range order, follow one another without gaps or overlaps
 * and together cover the key range of `shard` (`-80` and `80-` cover `0`; `0` covers `-80`). All
 * names must be valid shard names.
 */
export function validateKeyRangeCover(context: string, prop: string, shard: string, shards: readonly string[]): void {
  const problem = (what: string): Error =>
    new Error(
      `${context}: '${prop}' must be shards that follow one another without gaps or overlaps and together ` +
        `cover the key range of shard '${shard}' (e.g. '-80' and '80-' for '0'), got [${shards.map((s) => `'${s}'`).join(', ')}]: ${what}`,
    );
  const ranges = [...shards].sort(compareShardStarts).map((name) => ({ name, ...keyRangeOf(name) }));
  const whole = keyRangeOf(shard);
  const first = ranges[0];
  if (first.start !== '' && (whole.start === '' || compareKeys(first.start, whole.start) > 0)) {
    throw problem(`the first shard '${first.name}' starts after '${shard}' starts`);
  }
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1];
    if (previous.end === '' || !sameBound(previous.end, ranges[i].start)) {
      throw problem(`'${previous.name}' is not followed directly by '${ranges[i].name}'`);
    }
  }
  const last = ranges[ranges.length - 1];
  if (last.end !== '' && (whole.end === '' || compareKeys(last.end, whole.end) < 0)) {
    throw problem(`the last shard '${last.name}' ends before '${shard}' ends`);
  }
}

const claimsByApp = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Records that `scope` owns `key` in its app (the construct tree's root), and throws the error
 * `problem(owner)` when another construct of the same app already owns it. `owner` describes the
 * other construct.
 */
export function claimUnique(scope: IConstruct, key: string, owner: string, problem: (other: string) => string): void {
  const root = scope.node.root;
  let claims = claimsByApp.get(root);
  if (!claims) {
    claims = new Map();
    claimsByApp.set(root, claims);
  }
  const other = claims.get(key);
  if (other !== undefined) {
    throw new Error(problem(other));
  }
  claims.set(key, owner);
}

/**
 * Throws when another construct of the same app already creates a `kind` object named `name`: the
 * files of an app are applied to one namespace, where the second would replace the first.
 */
export function claimObjectName(scope: IConstruct, context: string, kind: string, name: string): void {
  claimUnique(
    scope,
    `${kind}/${name}`,
    scope.node.path,
    (other) =>
      `${context} ${scope.node.path}: ${kind} '${name}' is already created by ${other}; ` +
      'object names must be unique in an app (its files are applied to one namespace)',
  );
}

/** The 32-bit FNV-1a hash of the UTF-8 bytes of `text` (http://www.isthe.com/chongo/tech/comp/fnv/). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The longest base name of a Job: its object name adds `-` and {@link JOB_HASH_LENGTH} characters. */
export const JOB_NAME_MAX_LENGTH = 57;
/** The hex characters of a Job's content hash in its object name. */
const JOB_HASH_LENGTH = 5;

/** Throws unless `name` can be a Job's base name: a DNS-1123 label of at most {@link JOB_NAME_MAX_LENGTH} characters. */
export function validateJobName(context: string, prop: string, name: string): void {
  if (!DNS_LABEL.test(name) || name.length > JOB_NAME_MAX_LENGTH) {
    throw new Error(
      `${context}: '${prop}' must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a ` +
        `letter or digit) of at most ${JOB_NAME_MAX_LENGTH} characters (the Job's name adds '-' and ${JOB_HASH_LENGTH} of its content's hash), got '${name}'`,
    );
  }
}

/**
 * The object name of a Job: `<base>-<hash>`, the hash being the first characters of the SHA-256 of
 * the Job's spec as JSON. A Job's pod template cannot be changed once the Job exists, so a Job
 * whose work changes (a new script, another image) gets a new name: `kubectl apply` then creates
 * it beside the old one instead of failing, and it runs again, finding done what is done. The
 * unchanged Job keeps its name, and applying it again changes nothing.
 */
export function jobObjectName(base: string, spec: unknown): string {
  return `${base}-${createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, JOB_HASH_LENGTH)}`;
}

/**
 * The label of the pods (and Jobs) of a named cluster, the Kubernetes recommended label for the
 * instance of an application; every selector of a named cluster includes it.
 */
export const CLUSTER_LABEL = 'app.kubernetes.io/instance';

/** The longest cluster name: it prefixes every object name, which must stay short enough. */
export const CLUSTER_NAME_MAX_LENGTH = 20;

/** Throws unless `clusterName` is a DNS-1123 label of at most {@link CLUSTER_NAME_MAX_LENGTH} characters. */
export function validateClusterName(context: string, prop: string, clusterName: string | undefined): void {
  if (clusterName === undefined) {
    return;
  }
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(clusterName) || clusterName.length > CLUSTER_NAME_MAX_LENGTH) {
    throw new Error(
      `${context}: '${prop}' must be a DNS-1123 label starting with a letter (lowercase letters, digits and '-') of at most ` +
        `${CLUSTER_NAME_MAX_LENGTH} characters (it prefixes every object name), got '${clusterName}'`,
    );
  }
}

/** `name` prefixed with the cluster's name (`<cluster>-<name>`), or `name` itself without one. */
export function inCluster(clusterName: string | undefined, name: string): string {
  return clusterName === undefined ? name : `${clusterName}-${name}`;
}

/** The label of a named cluster's pods ({@link CLUSTER_LABEL}), or none. */
export function clusterLabels(clusterName: string | undefined): { [key: string]: string } {
  return clusterName === undefined ? {} : { [CLUSTER_LABEL]: clusterName };
}

/**
 * The base name of a Job of a named cluster: `<clusterName>-<jobName>`; when that is longer than
 * {@link JOB_NAME_MAX_LENGTH}, its first characters, `-` and 5 hex characters of the SHA-256 of the
 * whole, so that it stays unique, stable and short enough.
 */
export function clusterJobName(clusterName: string | undefined, jobName: string): string {
  return clusterObjectName(clusterName, jobName, JOB_NAME_MAX_LENGTH);
}

/**
 * `<clusterName>-<name>`, or `name` without a cluster name; when that is longer than `maxLength`,
 * its first characters, `-` and 5 hex characters of the SHA-256 of the whole, so that it stays
 * unique, stable and short enough.
 */
export function clusterObjectName(clusterName: string | undefined, name: string, maxLength: number): string {
  const full = inCluster(clusterName, name);
  if (full.length <= maxLength) {
    return full;
  }
  const hash = createHash('sha256').update(full).digest('hex').slice(0, JOB_HASH_LENGTH);
  return `${full.slice(0, maxLength - JOB_HASH_LENGTH - 1).replace(/-+$/, '')}-${hash}`;
}
