import { hashKeyspaceId, shardContains } from './vindex';

describe('hash vindex (the e2e check of where rows live)', () => {
  test('gives the keyspace ids of Vitess own tests', () => {
    // go/vt/vtgate/vindexes/hash_test.go lines 108-111 at v0.24.4: 1, 2 and 3.
    expect(hashKeyspaceId(1n).toString('hex')).toBe('166b40b44aba4bd6');
    expect(hashKeyspaceId(2n).toString('hex')).toBe('06e7ea22ce92708f');
    expect(hashKeyspaceId(3n).toString('hex')).toBe('4eb190c9a2fa169c');
  });

  test('places keyspace ids in shard ranges', () => {
    const id = hashKeyspaceId(1n); // 16...
    expect(shardContains('-80', id)).toBe(true);
    expect(shardContains('80-', id)).toBe(false);
    expect(shardContains('0', id)).toBe(true);
    expect(shardContains('40-80', id)).toBe(false);
    expect(shardContains('-80', Buffer.from('80', 'hex'))).toBe(false);
    expect(shardContains('80-', Buffer.from('80', 'hex'))).toBe(true);
  });
});
