// Vitess's `hash` vindex, for the real-Vitess e2e's check that each row lives on its shard.
import * as crypto from 'crypto';

/**
 * The keyspace id that the `hash` vindex gives a value: DES with an all-zero key of the value as
 * 8 big-endian bytes (go/vt/vtgate/vindexes/hash.go lines 143-158 at v0.24.4). Node's OpenSSL 3
 * has single DES only in its legacy provider, so this uses triple DES with three equal (zero)
 * keys, which is the same cipher: E(D(E(x))) = E(x).
 */
export function hashKeyspaceId(value: bigint): Buffer {
  const input = Buffer.alloc(8);
  input.writeBigUInt64BE(BigInt.asUintN(64, value));
  const cipher = crypto.createCipheriv('des-ede3', Buffer.alloc(24), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(input), cipher.final()]);
}

/** Whether a keyspace id is in a shard's key range (`-80`, `80-`, `40-80`; `0` or `-` is all). */
export function shardContains(shard: string, keyspaceId: Buffer): boolean {
  if (shard === '0' || shard === '-') return true;
  const [start, end] = shard.split('-').map((h) => (h === '' ? undefined : Buffer.from(h, 'hex')));
  return (!start || Buffer.compare(keyspaceId, start) >= 0) && (!end || Buffer.compare(keyspaceId, end) < 0);
}
