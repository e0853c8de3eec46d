import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EtcdCell, TabletShard, VitessRelease, VtctlJob, Vtctld, Vtgate, Vtorc } from '../lib';
import { testChart } from './util/synth';
import {
  claimObjectName,
  clusterJobName,
  fnv1a32,
  keyspaceObjectName,
  shardLabel,
  tabletAlias,
  validateKeyRangeTiling,
  validateObjectName,
  validateShardName,
} from '../lib/internal/names';

describe('names', () => {
  test('tablet aliases pad the UID to 10 digits', () => {
    expect(tabletAlias('test', 100)).toBe('test-0000000100');
    expect(tabletAlias('zone1', 4294967295)).toBe('zone1-4294967295');
  });

  test('shard labels as the Vitess Kubernetes example sanitised them', () => {
    expect(shardLabel('-80')).toBe('xx-80');
    expect(shardLabel('80-')).toBe('80-xx');
    expect(shardLabel('40-80')).toBe('40-80');
    expect(shardLabel('0')).toBe('0');
    // The rule applied in order (as the example's two sed calls do) gives xx-xx.
    expect(shardLabel('-')).toBe('xx-xx');
  });

  test('keyspace names in object names', () => {
    expect(keyspaceObjectName('test_keyspace')).toBe('test-keyspace');
  });

  test('shard names', () => {
    for (const ok of ['0', '-', '-80', '80-', '40-80', '-0080', '0080-00c0']) {
      expect(() => validateShardName('T', 'shard', ok)).not.toThrow();
    }
    expect(() => validateShardName('T', 'shard', '80-80')).toThrow(/start below its end/);
    // An end of zeros is the lowest keyspace ID: the range holds nothing.
    expect(() => validateShardName('T', 'shard', '-00')).toThrow("T: 'shard' key range '-00' must have its start below its end");
    expect(() => validateShardName('T', 'shard', '00-0000')).toThrow(/'00-0000' must have its start below its end/);
    expect(() => validateShardName('T', 'shard', '8-')).toThrow(/whole bytes/);
    expect(() => validateShardName('T', 'shard', '1')).toThrow(/got '1'/);
  });

  test('fails for object names that are not DNS labels', () => {
    expect(() => validateObjectName('T', 'name', 'a'.repeat(64))).toThrow(/at most 63 characters/);
    expect(() => validateObjectName('T', 'name', '-a')).toThrow(/got '-a'/);
  });
});

describe('clusterJobName', () => {
  test('the cluster name first; cut with a hash of the whole when that is longer than 57 characters', () => {
    expect(clusterJobName(undefined, 'vtctl-customer-reshard-reversetraffic-rdonly-replica')).toBe('vtctl-customer-reshard-reversetraffic-rdonly-replica');
    expect(clusterJobName('blue', 'vtctl-addcellinfo-zone1')).toBe('blue-vtctl-addcellinfo-zone1');
    const long = clusterJobName('green', 'vtctl-customer-reshard-reversetraffic-rdonly-replica');
    expect(long).toMatch(/^green-vtctl-customer-reshard-reversetraffic-rdonly-[0-9a-f]{5}$/);
    expect(long.length).toBeLessThanOrEqual(57);
    expect(clusterJobName('green', 'vtctl-customer-reshard-reversetraffic-rdonly-replica')).toBe(long);
    expect(clusterJobName('green', 'vtctl-customer-reshard-reversetraffic-rdonly-replicb')).not.toBe(long);
  });
});

describe('fnv1a32', () => {
  test("matches the reference vectors of FNV-1a's authors (test_fnv.c)", () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  test('hashes UTF-8 bytes', () => {
    // 'é' is the bytes c3 a9; the value is from an independent implementation over those bytes.
    expect(fnv1a32('é')).toBe(0x1e9de8c1);
  });
});

describe('key-range tiling', () => {
  test('accepts targets that cover the source exactly, in any order', () => {
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', '80-'])).not.toThrow();
    expect(() => validateKeyRangeTiling('T', 'targets', '-', ['80-', '-40', '40-80'])).not.toThrow();
    expect(() => validateKeyRangeTiling('T', 'targets', '80-', ['80-c0', 'c0-'])).not.toThrow();
    expect(() => validateKeyRangeTiling('T', 'targets', '-80', ['-40', '4000-80'])).not.toThrow();
  });

  test('fails for gaps, overlaps, ranges outside the source and a single target', () => {
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', 'c0-'])).toThrow(
      /'targets' must cover exactly the key range of shard '0'.*got \['-80', 'c0-'\]: '-80' is not followed directly by 'c0-'/,
    );
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', '40-'])).toThrow(/'-80' is not followed directly by '40-'/);
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80'])).toThrow(/at least two shards/);
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', '80-c0'])).toThrow(/the last shard '80-c0' does not end/);
    expect(() => validateKeyRangeTiling('T', 'targets', '80-', ['40-c0', 'c0-'])).toThrow(/the first shard '40-c0' does not start/);
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-', '80-'])).toThrow(/'-' is not followed directly/);
  });
});

describe('object names are unique in an app', () => {
  function app() {
    const a = testChart().node.scope as App;
    const chart = (id: string) => new Chart(a, id, { disableResourceNameHashes: true });
    const first = chart('first');
    const globalTopology = new EtcdCell(first, 'Global', { cell: 'global' });
    const vtctld = new Vtctld(first, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
    return { a, chart, first, globalTopology, vtctld };
  }

  test('claimObjectName: the second claim of a kind and name in the same app fails, naming both', () => {
    const { chart } = app();
    const one = new Construct(chart('one'), 'A');
    const two = new Construct(chart('two'), 'B');
    claimObjectName(one, 'Thing', 'Service', 'x');
    claimObjectName(one, 'Thing', 'Deployment', 'x');
    expect(() => claimObjectName(two, 'Thing', 'Service', 'x')).toThrow(
      "Thing two/B: Service 'x' is already created by one/A; object names must be unique in an app (its files are applied to one namespace)",
    );
    // Another app is another set of files.
    expect(() => claimObjectName(new Construct(testChart(), 'C'), 'Thing', 'Service', 'x')).not.toThrow();
  });

  test.each([
    ['EtcdCell', "EtcdCell second/E: StatefulSet 'etcd-global' is already created by first/Global", (s: Chart) => new EtcdCell(s, 'E', { cell: 'global' })],
    [
      'Vtctld',
      "Vtctld second/V: Deployment 'vtctld' is already created by first/Vtctld",
      (s: Chart, g: EtcdCell) => new Vtctld(s, 'V', { release: VitessRelease.V22_0, globalTopology: g, cell: 'other' }),
    ],
    [
      'Vtgate',
      "Vtgate second/G2: Deployment 'vtgate-test' is already created by first/G1",
      (s: Chart, g: EtcdCell, first: Chart) => {
        new Vtgate(first, 'G1', { globalTopology: g, cell: 'test' });
        new Vtgate(s, 'G2', { globalTopology: g, cell: 'test' });
      },
    ],
    [
      'Vtorc',
      "Vtorc second/O: Deployment 'vtctld' is already created by first/Vtctld",
      (s: Chart, g: EtcdCell) => new Vtorc(s, 'O', { release: VitessRelease.V22_0, globalTopology: g, name: 'vtctld' }),
    ],
    [
      'TabletShard',
      "TabletShard second/S2: Service 'vttablet-ks-0-test' is already created by first/S1",
      (s: Chart, g: EtcdCell, first: Chart) => {
        new TabletShard(first, 'S1', { release: VitessRelease.V22_0, globalTopology: g, cell: 'test', keyspace: 'ks', shard: '0' });
        new TabletShard(s, 'S2', { release: VitessRelease.V22_0, globalTopology: g, cell: 'test', keyspace: 'ks', shard: '0', uidBase: 200 });
      },
    ],
    [
      'VtctlJob',
      "VtctlJob x second/J2: Job 'x' is already created by first/J1",
      (s: Chart, _g: EtcdCell, first: Chart, vtctld: Vtctld) => {
        new VtctlJob(first, 'J1', { vtctld, jobName: 'x', commands: [['GetCellInfoNames']] });
        new VtctlJob(s, 'J2', { vtctld, jobName: 'x', commands: [['GetCellInfoNames']] });
      },
    ],
  ])('fails for a second %s with the same object name', (_name, message, build) => {
    const { chart, first, globalTopology, vtctld } = app();
    expect(() => build(chart('second'), globalTopology, first, vtctld)).toThrow(message);
  });
});
