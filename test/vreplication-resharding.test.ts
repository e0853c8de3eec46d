import { App, Chart } from 'cdk8s';
import {
  EtcdCell,
  JobCondition,
  ServedType,
  TabletShard,
  TabletShardProps,
  VitessRelease,
  VReplicationResharding,
  VtctlJob,
  Vtctld,
} from '../lib';
import { FakeCluster, changingCommands, expectJobsSucceeded } from './util/fake-cluster';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { baseName } from './util/synth';

const release = VitessRelease.V22_0;
const keyspace = 'test_keyspace';
const READS = [ServedType.RDONLY, ServedType.REPLICA];

/** test_keyspace/0 on v22 resharded into -80 and 80-, one chart per phase. */
function guide() {
  const app = new App();
  const chart = (id: string) => new Chart(app, id, { disableResourceNameHashes: true });
  const cluster = chart('cluster');
  const globalTopology = new EtcdCell(cluster, 'Global', { cell: 'global' });
  const cell = new EtcdCell(cluster, 'Test', { cell: 'test' });
  const vtctld = new Vtctld(cluster, 'Vtctld', { release, globalTopology, cell: 'test' });
  const shardProps: Omit<TabletShardProps, 'shard'> = { release, globalTopology, cell: 'test', keyspace };
  const oldTablets = chart('old-tablets');
  const source = new TabletShard(oldTablets, 'Shard0', { ...shardProps, shard: '0', uidBase: 100 });
  const setup = chart('setup');
  cell.addCellInfoJob(setup, 'AddCellInfo', vtctld);
  new VtctlJob(setup, 'Durability', {
    vtctld,
    jobName: 'durability',
    waitFor: [JobCondition.keyspaceExists(keyspace)],
    skipIf: JobCondition.keyspaceDurability(keyspace, 'semi_sync'),
    commands: [['SetKeyspaceDurabilityPolicy', '--durability-policy=semi_sync', keyspace]],
  });
  source.initPrimaryJob(setup, 'InitSource', vtctld);
  new VtctlJob(setup, 'Schema', {
    vtctld,
    jobName: 'schema',
    waitFor: [JobCondition.shardHasPrimary(keyspace, '0')],
    skipIf: JobCondition.tableExists(source.primaryCandidate, 'messages'),
    commands: [['ApplySchema', '--sql=CREATE TABLE messages (page BIGINT)', keyspace]],
  });
  const newShards = chart('new-shards');
  const targets = [
    new TabletShard(newShards, 'Shard80XX', { ...shardProps, shard: '80-', uidBase: 300 }),
    new TabletShard(newShards, 'ShardXX80', { ...shardProps, shard: '-80', uidBase: 200 }),
  ];
  targets.forEach((target, i) => target.initPrimaryJob(newShards, `Init${i}`, vtctld));
  const resharding = new VReplicationResharding({ vtctld, source, targets });
  const phase = (id: string, add: (scope: Chart) => void) => {
    const scope = chart(id);
    add(scope);
    return scope.toJson();
  };
  return {
    resharding,
    oldTablets: oldTablets.toJson(),
    setup: [...oldTablets.toJson(), ...setup.toJson()],
    newShards: newShards.toJson(),
    phases: {
      create: phase('create', (s) => resharding.createJob(s, 'Job')),
      vdiff: phase('vdiff', (s) => resharding.vdiffJob(s, 'Job')),
      switchReads: phase('switch-reads', (s) => resharding.switchTrafficJob(s, 'Job', READS)),
      switchPrimary: phase('switch-primary', (s) => resharding.switchTrafficJob(s, 'Job', [ServedType.PRIMARY])),
      complete: phase('complete', (s) => resharding.completeJob(s, 'Job')),
      deleteShard: phase('delete-shard', (s) => resharding.deleteSourceShardJob(s, 'Job')),
    },
    rollback: {
      primary: phase('reverse-primary', (s) => resharding.reverseTrafficJob(s, 'Job', [ServedType.PRIMARY])),
      reads: phase('reverse-reads', (s) => resharding.reverseTrafficJob(s, 'Job', READS)),
    },
  };
}

function setUp(g: ReturnType<typeof guide>): FakeCluster {
  const cluster = new FakeCluster();
  expectJobsSucceeded(cluster.apply(g.setup));
  expectJobsSucceeded(cluster.apply(g.newShards));
  return cluster;
}

type Phase = keyof ReturnType<typeof guide>['phases'];

describe('VReplicationResharding', () => {
  const g = guide();

  test('one Job per phase, named after the workflow', () => {
    expect(g.resharding.targetShards).toEqual(['-80', '80-']);
    expect(Object.values(g.phases).map((objects) => objects.map((o) => baseName(o)))).toEqual([
      ['vtctl-test-keyspace-reshard-create'],
      ['vtctl-test-keyspace-reshard-vdiff'],
      ['vtctl-test-keyspace-reshard-switchtraffic-rdonly-replica'],
      ['vtctl-test-keyspace-reshard-switchtraffic-primary'],
      ['vtctl-test-keyspace-reshard-complete'],
      ['vtctl-deleteshards-test-keyspace-0'],
    ]);
  });

  test('the phases run the VReplication commands in order and leave -80 and 80- serving everything', () => {
    const cluster = setUp(g);
    const ran: string[][] = [];
    for (const [name, objects] of Object.entries(g.phases)) {
      if (name === 'deleteShard') {
        cluster.delete(g.oldTablets);
      }
      const runs = cluster.apply(objects);
      expectJobsSucceeded(runs);
      ran.push(changingCommands(runs));
    }
    const wf = '--workflow=reshard --target-keyspace=test_keyspace';
    expect(ran).toEqual([
      [`vtctldclient Reshard ${wf} create --source-shards=0 --target-shards=-80,80-`],
      [`vtctldclient VDiff ${wf} create`],
      [`vtctldclient Reshard ${wf} switchtraffic --tablet-types=rdonly,replica`],
      [`vtctldclient Reshard ${wf} switchtraffic --tablet-types=primary`],
      [`vtctldclient Reshard ${wf} complete`],
      // complete dropped shard 0 and its tablets' records (as Vitess does), and the old tablets
      // were deleted before they could restart and re-create it: nothing left to delete.
      [],
    ]);
    const state = cluster.state;
    expect(Object.keys(state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    expect(state.srv[keyspace].partitions).toEqual({ 1: ['-80', '80-'], 2: ['-80', '80-'], 3: ['-80', '80-'] });
    expect(state.workflows).toEqual({});

    // Every phase again: nothing is done twice.
    const again = Object.values(g.phases).flatMap((objects) => cluster.apply(objects));
    expectJobsSucceeded(again);
    expect(changingCommands(again)).toEqual([]);
    cluster.dispose();
  });

  test('each phase applied too early fails, naming what is missing, and changes nothing', () => {
    const cluster = setUp(g);
    const early = (name: Phase): string => {
      const [run] = cluster.apply(g.phases[name]);
      expect(run.status).toBe(1);
      expect(changingCommands([run])).toEqual([]);
      return run.stderr;
    };
    expect(early('vdiff')).toContain('waiting for: workflow test_keyspace.reshard has copied everything and is replicating');
    expect(early('switchReads')).toContain('waiting for: workflow test_keyspace.reshard has copied everything');
    expect(early('switchPrimary')).toContain("waiting for: cell 'test' serves rdonly of test_keyspace from shards -80, 80-");
    expect(early('complete')).toContain("waiting for: cell 'test' serves rdonly of test_keyspace from shards -80, 80-");
    // No workflow yet counts as none left; the primary is what is missing.
    expect(early('deleteShard')).toContain("waiting for: cell 'test' serves primary of test_keyspace from shards -80, 80-");
    cluster.dispose();
  });

  test('a VDiff that finds differences fails its Job and keeps traffic where it is', () => {
    const cluster = setUp(g);
    expectJobsSucceeded(cluster.apply(g.phases.create));
    cluster.update((state) => {
      state.vdiffMismatch = true;
    });
    const [vdiff] = cluster.apply(g.phases.vdiff);
    expect(vdiff.status).toBe(1);
    expect(vdiff.stderr).toContain('FAILED: does not hold: the last VDiff of test_keyspace.reshard completed without differences');
    const [switchReads] = cluster.apply(g.phases.switchReads);
    expect(switchReads.status).toBe(1);
    expect(switchReads.stderr).toContain('waiting for: the last VDiff of test_keyspace.reshard completed without differences');
    expect(changingCommands([switchReads])).toEqual([]);
    cluster.dispose();
  });

  test('old tablets still running after complete re-create shard 0; DeleteShards removes it once they are gone', () => {
    const cluster = setUp(g);
    for (const name of ['create', 'vdiff', 'switchReads', 'switchPrimary', 'complete'] as const) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    expect(cluster.state.shards['test_keyspace/0']).toBeUndefined();
    // The old tablets find their records gone, restart and register again: shard 0 is back, not serving.
    cluster.tick();
    expect(cluster.state.shards['test_keyspace/0']).toMatchObject({ isMasterServing: false });
    const [run] = cluster.apply(g.phases.deleteShard);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('waiting for: tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 no longer answer');
    expect(changingCommands([run])).toEqual([]);
    cluster.delete(g.oldTablets);
    const [clean] = cluster.apply(g.phases.deleteShard);
    expectJobsSucceeded([clean]);
    expect(changingCommands([clean])).toEqual(['vtctldclient DeleteShards --recursive test_keyspace/0']);
    expect(Object.keys(cluster.state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    cluster.dispose();
  });

  test('rollback: the primary first, then reads; not once the workflow is completed', () => {
    const cluster = setUp(g);
    for (const name of ['create', 'vdiff', 'switchReads', 'switchPrimary'] as const) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    // Reads cannot go back while the targets serve the primary.
    const [tooEarly] = cluster.apply(g.rollback.reads);
    expect(tooEarly.status).toBe(1);
    expect(tooEarly.stderr).toContain("waiting for: cell 'test' serves primary of test_keyspace from shard 0");
    const reversed = [...cluster.apply(g.rollback.primary), ...cluster.apply(g.rollback.reads)];
    expectJobsSucceeded(reversed);
    const wf = '--workflow=reshard --target-keyspace=test_keyspace';
    expect(changingCommands(reversed)).toEqual([
      `vtctldclient Reshard ${wf} reversetraffic --tablet-types=primary`,
      `vtctldclient Reshard ${wf} reversetraffic --tablet-types=rdonly,replica`,
    ]);
    expect(cluster.state.srv[keyspace].partitions).toEqual({ 1: ['0'], 2: ['0'], 3: ['0'] });
    const again = [...cluster.apply(g.rollback.primary), ...cluster.apply(g.rollback.reads)];
    expectJobsSucceeded(again);
    expect(changingCommands(again)).toEqual([]);
    cluster.dispose();
  });

  test('every flag and vtctldclient command is known to Vitess v22.0.3', () => {
    const all = [...Object.values(g.phases).flat(), ...Object.values(g.rollback).flat()];
    const invocations = vitessInvocations(all);
    expect(invocations.every((i) => i.binary === 'vtctldclient')).toBe(true);
    expect(checkInvocations(invocations, 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every Job is valid Kubernetes %s', (version) => {
    const all = [...Object.values(g.phases).flat(), ...Object.values(g.rollback).flat()];
    expect(all).toHaveLength(8);
    expect(validateManifests(all, version)).toEqual([]);
  });

  describe('fails for', () => {
    function shards(rel: VitessRelease, specs: Array<[string, string, number, Partial<TabletShardProps>?]>) {
      const chart = new Chart(new App(), 'c', { disableResourceNameHashes: true });
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      const vtctld = new Vtctld(chart, 'Vtctld', { release: rel, globalTopology, cell: 'test' });
      const made = specs.map(
        ([ks, shard, uidBase, more]) =>
          new TabletShard(chart, `${ks}${shard}${uidBase}`, { release: rel, globalTopology, cell: 'test', keyspace: ks, shard, uidBase, ...more }),
      );
      return { vtctld, source: made[0], targets: made.slice(1) };
    }

    test('a release that uses vtctlclient', () => {
      const props = shards(VitessRelease.V9_0, [[keyspace, '0', 100], [keyspace, '-80', 200], [keyspace, '80-', 300]]);
      expect(() => new VReplicationResharding(props)).toThrow(
        /VReplicationResharding: Vitess v9.0.0 has no vtctldclient Reshard workflow for this library; reshard it with vtworker \(VtworkerResharding\)/,
      );
    });

    test('targets that do not tile the source, or elsewhere', () => {
      const gap = shards(release, [[keyspace, '0', 100], [keyspace, '-40', 200], [keyspace, '80-', 300]]);
      expect(() => new VReplicationResharding(gap)).toThrow(/'targets' must cover exactly the key range of shard '0'.*'-40' is not followed directly by '80-'/);
      const other = shards(release, [[keyspace, '0', 100], [keyspace, '-80', 200], [keyspace, '80-', 300, { cell: 'zone2' }]]);
      expect(() => new VReplicationResharding(other)).toThrow(/'targets' must be in the source's cell 'test', got test_keyspace\/80- in cell 'zone2'/);
    });

    test('otherCells that are not the same shards in another cell', () => {
      const props = shards(release, [
        [keyspace, '0', 100],
        [keyspace, '-80', 200],
        [keyspace, '80-', 300],
        [keyspace, '0', 400, { cell: 'zone2' }],
        [keyspace, '-80', 500, { cell: 'zone2' }],
        [keyspace, '80-', 600, { cell: 'zone2' }],
        [keyspace, '-40', 700, { cell: 'zone2' }],
      ]);
      const [source, minus80, plus80, source2, minus80b, plus80b, minus40] = [props.source, ...props.targets];
      const base = { vtctld: props.vtctld, source, targets: [minus80, plus80] };
      expect(new VReplicationResharding({ ...base, otherCells: [{ source: source2, targets: [minus80b, plus80b] }] }).cells).toEqual(['test', 'zone2']);
      expect(() => new VReplicationResharding({ ...base, otherCells: [{ source: minus80b, targets: [plus80b] }] })).toThrow(
        "VReplicationResharding: 'otherCells[0].source' must be shard test_keyspace/0 in another cell, got test_keyspace/-80",
      );
      expect(() => new VReplicationResharding({ ...base, otherCells: [{ source, targets: [minus80, plus80] }] })).toThrow(
        "VReplicationResharding: 'otherCells[0].source' is in cell 'test', which has its tablets already; each cell once",
      );
      expect(() => new VReplicationResharding({ ...base, otherCells: [{ source: source2, targets: [minus80b, plus80] }] })).toThrow(
        "VReplicationResharding 'otherCells[0]': 'targets' must be in the source's cell 'zone2', got test_keyspace/80- in cell 'test'",
      );
      expect(() => new VReplicationResharding({ ...base, otherCells: [{ source: source2, targets: [minus40] }] })).toThrow(
        "VReplicationResharding 'otherCells[0]': 'targets' must cover exactly the key range of shard '0' without gaps or overlaps (e.g. '-80' and '80-' for '0'), got ['-40']: give at least two shards",
      );
    });

    test('a bad workflow name or tablet types', () => {
      const props = shards(release, [[keyspace, '0', 100], [keyspace, '-80', 200], [keyspace, '80-', 300]]);
      expect(() => new VReplicationResharding({ ...props, workflow: 'Re-shard' })).toThrow(/'workflow' must start with a lowercase letter.*got 'Re-shard'/);
      const r = new VReplicationResharding(props);
      expect(() => r.switchTrafficJob(new Chart(new App(), 'x'), 'Job', [])).toThrow(/switchTrafficJob: 'types' must name each of rdonly, replica and primary at most once, and at least one, got \[\]/);
      expect(() => r.reverseTrafficJob(new Chart(new App(), 'x'), 'Job', [ServedType.RDONLY, ServedType.RDONLY])).toThrow(/got \[rdonly, rdonly\]/);
    });
  });
});
