import { keyRangeOf, validateShardName } from './internal/names';

/** The most shards `KeyRange.equalShards` and `KeyRange.equalShardsOf` make. */
const MAX_COUNT = 65536;

/**
 * A shard's key range as its two bounds. Keyspace IDs are compared as bytes, so a bound is a
 * prefix: `80` and `8000` are the same keyspace ID.
 */
export interface KeyRangeBounds {
  /** The inclusive start, in lowercase hex; '' is the start of the keyspace. */
  readonly start: string;
  /** The exclusive end, in lowercase hex; '' is the end of the keyspace. */
  readonly end: string;
}

/**
 * Shard names for key ranges: N equal shards of the whole keyspace or of one shard.
 *
 * A shard name is a key range `start-end` in lowercase hex, start inclusive and end exclusive,
 * an empty bound being unbounded (`-80`, `80-c0`, `c0-`); `0` and `-` are both the full range.
 *
 * The one algorithm (Vitess's `key.GenerateShardRanges` in go/vt/key/key.go, computed exactly):
 * 1. Write the range being split as whole numbers `[start, end)` at the byte width of its name
 *    (the full range is `[0, 1)` at width 0; `40-80` is `[0x40, 0x80)` at width 1).
 * 2. Add one byte of width (multiply both by 256) until `end - start >= count`, so that every
 *    shard is at least one unit wide. For the full range that is 1 byte (2 hex digits) for up to
 *    256 shards and 2 bytes (4 hex digits) for up to 65536, as in Vitess.
 * 3. Boundary `i` (0 to count) is `start + floor(i * (end - start) / count)`: the remainder is
 *    spread over the shards by truncating each boundary, not piled onto the last one.
 * 4. Shard `i` is `boundary(i)-boundary(i + 1)`, each in hex with 2 digits per byte of width,
 *    except that an unbounded start or end of the range being split stays empty.
 *
 * So shard widths differ by at most one unit, and are all equal when `count` divides the width
 * (any power of two up to the width). The arithmetic is on whole numbers (`bigint`) only:
 * computing `i * (256 / count)` in floating point can round just below a whole number
 * (49 shards: `49 * (256 / 49)` is 255.99...), which moves a boundary by one.
 *
 * Boundaries decide which rows a shard holds: a keyspace's shards must keep the names they were
 * created with, so this algorithm does not change.
 */
export class KeyRange {
  /**
   * `count` equal shards of the whole keyspace, in key order.
   *
   * `equalShards(2)` is `-80, 80-`; `equalShards(3)` is `-55, 55-aa, aa-`; 257 shards and more
   * use 4 hex digits (`-00ff, 00ff-01fe, ..., ff00-`).
   *
   * One shard is `0`, the conventional name of an unsharded keyspace's shard (the one this
   * project's example starts with and reshards from). Vitess's `GenerateShardRanges` returns `-`
   * instead, which names the same full range.
   *
   * @param count the number of shards, a whole number from 1 to 65536.
   */
  public static equalShards(count: number): string[] {
    validateCount('KeyRange.equalShards', count);
    return split('0', { start: '', end: '' }, count);
  }

  /**
   * `count` equal shards of the key range of `shard`, in key order, by the same algorithm as
   * `equalShards` (which is `equalShardsOf('0', count)`).
   *
   * `equalShardsOf('-80', 2)` is `-40, 40-80`; `equalShardsOf('80-', 2)` is `80-c0, c0-`;
   * `equalShardsOf('-80', 3)` is `-2a, 2a-55, 55-80`. The names get as many more bytes as make
   * every shard at least one unit wide (`equalShardsOf('80-81', 2)` is `8000-8080, 8080-8100`),
   * and all use the same number of hex digits. One shard is `shard` itself, unchanged.
   *
   * @param shard the shard to split: `0`, `-` or a lowercase hex key range.
   * @param count the number of shards, a whole number from 1 to 65536.
   */
  public static equalShardsOf(shard: string, count: number): string[] {
    validateShardName('KeyRange.equalShardsOf', 'shard', shard);
    validateCount('KeyRange.equalShardsOf', count);
    return split(shard, keyRangeOf(shard), count);
  }

  /**
   * The bounds of a shard's key range: `-80` is `{ start: '', end: '80' }`, `0` and `-` are
   * `{ start: '', end: '' }`.
   *
   * @param shard a shard name: `0`, `-` or a lowercase hex key range.
   */
  public static parse(shard: string): KeyRangeBounds {
    validateShardName('KeyRange.parse', 'shard', shard);
    return keyRangeOf(shard);
  }

  private constructor() {}
}

function validateCount(context: string, count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new Error(`${context}: 'count' must be a whole number from 1 to ${MAX_COUNT}, got ${count}`);
  }
}

/** The algorithm of `KeyRange` for a valid shard and count. */
function split(shard: string, bounds: KeyRangeBounds, count: number): string[] {
  if (count === 1) {
    return [shard];
  }
  // Step 1: the range as whole numbers [low, high) at the byte width of its name.
  let bytes = Math.max(bounds.start.length, bounds.end.length) / 2;
  const atWidth = (bound: string): bigint => BigInt(`0x${bound.padEnd(bytes * 2, '0')}`);
  let low = bounds.start === '' ? 0n : atWidth(bounds.start);
  let high = bounds.end === '' ? 256n ** BigInt(bytes) : atWidth(bounds.end);
  // Step 2: widen until every shard is at least one unit wide.
  const n = BigInt(count);
  while (high - low < n) {
    bytes += 1;
    low *= 256n;
    high *= 256n;
  }
  // Steps 3 and 4: truncated boundaries, unbounded ends kept empty.
  const hex = (i: number): string => (low + ((high - low) * BigInt(i)) / n).toString(16).padStart(bytes * 2, '0');
  const shards: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = i === 0 && bounds.start === '' ? '' : hex(i);
    const end = i === count - 1 && bounds.end === '' ? '' : hex(i + 1);
    shards.push(`${start}-${end}`);
  }
  return shards;
}
