// Naming and identity rules shared by the constructs. Not part of the public API.

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
  if (start !== '' && end !== '' && compareKeys(start, end) >= 0) {
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

/** Throws unless `name` is a valid DNS-1123 label (Service, StatefulSet and Job names). */
export function validateObjectName(context: string, prop: string, name: string): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    throw new Error(
      `${context}: '${prop}' must be a DNS-1123 label (lowercase letters, digits and '-', at most ` +
        `63 characters, starting and ending with a letter or digit), got '${name}'`,
    );
  }
}
