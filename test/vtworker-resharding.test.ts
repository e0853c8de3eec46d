import { App, Chart } from 'cdk8s';
import {
  EtcdCell,
  JobCondition,
  ServedType,
  TabletShard,
  TabletShardProps,
  VitessRelease,
  VtctlJob,
  Vtctld,
  VtworkerResharding,
  VtworkerReshardingProps,
} from '../lib';
import { FakeCluster, JobRun, changingCommands, expectJobsSucceeded } from './util/fake-cluster';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { releaseWithoutVtworker } from './util/releases';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { baseName } from './util/synth';

const release = VitessRelease.V9_0;
const keyspace = 'test_keyspace';

/**
 * The guide's resharding of test_keyspace/0 into -80 and 80-: the setup (cell, old shard with its
 * schema, new shards with their masters) and one chart per phase.
 */
function guide(overrides: Partial<VtworkerReshardingProps> = {}) {
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
  source.initPrimaryJob(setup, 'InitSource', vtctld);
  new VtctlJob(setup, 'Schema', {
    vtctld,
    jobName: 'schema',
    waitFor: [JobCondition.shardHasPrimary(keyspace, '0')],
    skipIf: JobCondition.tableExists(source.primaryCandidate, 'messages'),
    commands: [['ApplySchema', '-sql=CREATE TABLE messages (page BIGINT)', keyspace]],
  });
  const newShards = chart('new-shards');
  const targets = [
    new TabletShard(newShards, 'ShardXX80', { ...shardProps, shard: '-80', uidBase: 200 }),
    new TabletShard(newShards, 'Shard80XX', { ...shardProps, shard: '80-', uidBase: 300 }),
  ];
  targets.forEach((target, i) => target.initPrimaryJob(newShards, `Init${i}`, vtctld));
  const resharding = new VtworkerResharding({ vtctld, globalTopology, source, targets: [...targets].reverse(), ...overrides });
  const phase = (id: string, add: (scope: Chart) => void) => {
    const scope = chart(id);
    add(scope);
    return scope;
  };
  const phases = {
    copySchema: phase('copy-schema', (s) => resharding.copySchemaJob(s, 'Job')),
    splitClone: phase('split-clone', (s) => resharding.splitCloneJob(s, 'Job')),
    splitDiff: phase('split-diff', (s) => resharding.splitDiffJob(s, 'Job')),
    migrateRdonly: phase('migrate-rdonly', (s) => resharding.migrateServedTypeJob(s, 'Job', ServedType.RDONLY)),
    migrateReplica: phase('migrate-replica', (s) => resharding.migrateServedTypeJob(s, 'Job', ServedType.REPLICA)),
    migrateMaster: phase('migrate-master', (s) => resharding.migrateServedTypeJob(s, 'Job', ServedType.PRIMARY)),
    deleteShard: phase('delete-shard', (s) => resharding.deleteSourceShardJob(s, 'Job')),
  };
  const rollback = {
    replica: phase('reverse-replica', (s) => resharding.reverseServedTypeJob(s, 'Job', ServedType.REPLICA)),
    rdonly: phase('reverse-rdonly', (s) => resharding.reverseServedTypeJob(s, 'Job', ServedType.RDONLY)),
  };
  return {
    resharding,
    oldTablets: oldTablets.toJson(),
    setup: [...oldTablets.toJson(), ...setup.toJson()],
    newShards: newShards.toJson(),
    phases: Object.fromEntries(Object.entries(phases).map(([k, c]) => [k, c.toJson()])) as Record<keyof typeof phases, any[]>,
    rollback: Object.fromEntries(Object.entries(rollback).map(([k, c]) => [k, c.toJson()])) as Record<keyof typeof rollback, any[]>,
  };
}

/** A fake cluster with the guide's setup applied: the new shards have masters, nothing is copied yet. */
function setUp(g: ReturnType<typeof guide>): FakeCluster {
  const cluster = new FakeCluster();
  expectJobsSucceeded(cluster.apply(g.setup));
  expectJobsSucceeded(cluster.apply(g.newShards));
  return cluster;
}

describe('VtworkerResharding', () => {
  const g = guide();

  test('the targets in key-range order, whatever order they were given in', () => {
    expect(g.resharding.targetShards).toEqual(['-80', '80-']);
    expect(g.resharding.sourceShard).toBe('0');
    expect(g.resharding.cell).toBe('test');
  });

  test('one Job per phase, named after its command, keyspace and shard', () => {
    const names = Object.values(g.phases).map((objects) => objects.map((o) => `${o.kind}/${baseName(o)}`));
    expect(names).toEqual([
      ['Job/vtctl-copyschemashard-test-keyspace'],
      ['Job/vtworker-splitclone-test-keyspace-0'],
      // SplitDiff records its result in a ConfigMap, which migrating rdonly waits for; each Job
      // may touch only that ConfigMap.
      [
        'ConfigMap/vtworker-splitdiff-test-keyspace-0-result',
        'ServiceAccount/vtworker-splitdiff-test-keyspace-xx-80-80-xx',
        'Role/vtworker-splitdiff-test-keyspace-xx-80-80-xx',
        'RoleBinding/vtworker-splitdiff-test-keyspace-xx-80-80-xx',
        'Job/vtworker-splitdiff-test-keyspace-xx-80-80-xx',
      ],
      [
        'ServiceAccount/vtctl-migrateservedtypes-test-keyspace-0-rdonly',
        'Role/vtctl-migrateservedtypes-test-keyspace-0-rdonly',
        'RoleBinding/vtctl-migrateservedtypes-test-keyspace-0-rdonly',
        'Job/vtctl-migrateservedtypes-test-keyspace-0-rdonly',
      ],
      ['Job/vtctl-migrateservedtypes-test-keyspace-0-replica'],
      ['Job/vtctl-migrateservedtypes-test-keyspace-0-master'],
      ['Job/vtctl-deleteshard-test-keyspace-0'],
    ]);
    expect(Object.values(g.rollback).map((objects) => objects.map((o) => baseName(o)))).toEqual([
      ['vtctl-reverseservedtypes-test-keyspace-0-replica'],
      ['vtctl-reverseservedtypes-test-keyspace-0-rdonly'],
    ]);
  });

  test('the phases run the guide commands, in order, and leave -80 and 80- serving everything', () => {
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
    expect(ran).toEqual([
      ['vtctlclient CopySchemaShard test_keyspace/0 test_keyspace/-80', 'vtctlclient CopySchemaShard test_keyspace/0 test_keyspace/80-'],
      ['vtworker SplitClone -min_healthy_rdonly_tablets=2 test_keyspace/0'],
      [
        'kubernetes PATCH configmap/vtworker-splitdiff-test-keyspace-0-result {"data":{"result":"running"}}',
        'vtworker SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/-80',
        'vtworker SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/80-',
        'kubernetes PATCH configmap/vtworker-splitdiff-test-keyspace-0-result {"data":{"result":"succeeded"}}',
      ],
      ['vtctlclient MigrateServedTypes test_keyspace/0 rdonly'],
      ['vtctlclient MigrateServedTypes test_keyspace/0 replica'],
      ['vtctlclient MigrateServedTypes test_keyspace/0 master'],
      ['vtctlclient DeleteShard -recursive test_keyspace/0'],
    ]);
    const state = cluster.state;
    expect(Object.keys(state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    expect(state.srv[keyspace].partitions).toEqual({ 1: ['-80', '80-'], 2: ['-80', '80-'], 3: ['-80', '80-'] });
    expect(state.diffed).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    // The old tablets' records went with the shard; their PVCs are not the Jobs' business.
    expect(Object.values(state.tablets).filter((t) => t.registered).map((t) => t.uid)).toEqual([
      200, 201, 202, 203, 204, 300, 301, 302, 303, 304,
    ]);

    // Applying every phase again does no harm: each finds its work done, DeleteShard the shard gone.
    const again = Object.values(g.phases).flatMap((objects) => cluster.apply(objects));
    expectJobsSucceeded(again);
    expect(changingCommands(again)).toEqual([]);
    expect(again.filter((run) => run.stdout.includes('already done')).map((run) => run.name)).toEqual([
      'vtctl-copyschemashard-test-keyspace',
      'vtworker-splitclone-test-keyspace-0',
      'vtworker-splitdiff-test-keyspace-xx-80-80-xx',
      'vtctl-migrateservedtypes-test-keyspace-0-rdonly',
      'vtctl-migrateservedtypes-test-keyspace-0-replica',
      'vtctl-migrateservedtypes-test-keyspace-0-master',
      'vtctl-deleteshard-test-keyspace-0',
    ]);
    cluster.dispose();
  });

  test('applying a phase again in the middle does not copy or migrate twice', () => {
    const cluster = setUp(g);
    const order = ['copySchema', 'splitClone', 'splitDiff', 'migrateRdonly'] as const;
    for (const name of order) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    const again = order.flatMap((name) => cluster.apply(g.phases[name]));
    expectJobsSucceeded(again);
    // SplitDiff only reads, so it may compare again (and records its result again); nothing else acts.
    expect(changingCommands(again)).toEqual([
      'kubernetes PATCH configmap/vtworker-splitdiff-test-keyspace-0-result {"data":{"result":"running"}}',
      'vtworker SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/-80',
      'vtworker SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/80-',
      'kubernetes PATCH configmap/vtworker-splitdiff-test-keyspace-0-result {"data":{"result":"succeeded"}}',
    ]);
    cluster.dispose();
  });

  test('each phase applied too early fails, naming what is missing, and changes nothing', () => {
    const cluster = setUp(g);
    const early = (name: keyof typeof g.phases): JobRun => {
      const [run] = cluster.apply(g.phases[name]);
      expect(run.status).toBe(1);
      expect(changingCommands([run])).toEqual([]);
      return run;
    };
    expect(early('splitClone').stderr).toContain(
      "FAILED: gave up after 600s waiting for: every shard of keyspace 'test_keyspace' has the same schema",
    );
    expect(early('splitDiff').stderr).toContain(
      'waiting for: shard test_keyspace/-80 has filtered replication from its source shards and shard test_keyspace/80- has filtered replication',
    );
    expect(early('migrateRdonly').stderr).toContain('waiting for: shard test_keyspace/-80 has filtered replication');
    expect(early('migrateReplica').stderr).toContain("waiting for: cell 'test' serves rdonly of test_keyspace from shards -80, 80-");
    expect(early('migrateMaster').stderr).toContain("waiting for: cell 'test' serves rdonly of test_keyspace from shards -80, 80-");
    expect(early('deleteShard').stderr).toContain("waiting for: cell 'test' serves primary of test_keyspace from shards -80, 80-");
    // The failure shows what the check saw.
    expect(early('deleteShard').stderr).toMatch(/last output of the checks:\n\$ \S+vtctlclient -server=vtctld:15999 GetSrvKeyspace test test_keyspace\n\{\n {2}"partitions": \[/);

    // The primary before replica, out of order:
    for (const name of ['copySchema', 'splitClone', 'splitDiff', 'migrateRdonly'] as const) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    expect(early('migrateMaster').stderr).toContain("waiting for: cell 'test' serves replica of test_keyspace from shards -80, 80-");
    cluster.dispose();
  });

  test('DeleteShard waits until the old tablets are gone', () => {
    const cluster = setUp(g);
    for (const name of ['copySchema', 'splitClone', 'splitDiff', 'migrateRdonly', 'migrateReplica', 'migrateMaster'] as const) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    const [run] = cluster.apply(g.phases.deleteShard);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'waiting for: tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 no longer answer',
    );
    expect(changingCommands([run])).toEqual([]);
    expect(Object.keys(cluster.state.shards)).toContain('test_keyspace/0');
    cluster.dispose();
  });

  test('DeleteShard does not take a shard that does not exist yet for deleted', () => {
    // A fresh cluster: no tablet has registered, so shard 0 does not exist, but nothing is resharded.
    const cluster = new FakeCluster();
    const [run] = cluster.apply(g.phases.deleteShard);
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('already done');
    expect(run.stderr).toContain("waiting for: cell 'test' serves primary of test_keyspace from shards -80, 80-");
    expect(changingCommands([run])).toEqual([]);
    cluster.dispose();
  });

  test('vtworker waits for rdonly tablets that a killed vtworker left drained', () => {
    const cluster = setUp(g);
    expectJobsSucceeded(cluster.apply(g.phases.copySchema));
    cluster.update((state) => {
      state.tablets['test-0000000103'].type = 'drained';
    });
    const [run] = cluster.apply(g.phases.splitClone);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('waiting for: tablets test-0000000103, test-0000000104, test-0000000203');
    expect(run.stderr).toContain("are rdonly in cell 'test'");
    expect(changingCommands([run])).toEqual([]);
    cluster.dispose();
  });

  test('rollback serves replica and rdonly from the old shard again, until the primary has moved', () => {
    const cluster = setUp(g);
    for (const name of ['copySchema', 'splitClone', 'splitDiff', 'migrateRdonly', 'migrateReplica'] as const) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    const reversed = [...cluster.apply(g.rollback.replica), ...cluster.apply(g.rollback.rdonly)];
    expectJobsSucceeded(reversed);
    expect(changingCommands(reversed)).toEqual([
      'vtctlclient MigrateServedTypes -reverse test_keyspace/0 replica',
      'vtctlclient MigrateServedTypes -reverse test_keyspace/0 rdonly',
    ]);
    expect(cluster.state.srv[keyspace].partitions).toEqual({ 1: ['0'], 2: ['0'], 3: ['0'] });
    // Again: nothing to do.
    const again = [...cluster.apply(g.rollback.replica), ...cluster.apply(g.rollback.rdonly)];
    expectJobsSucceeded(again);
    expect(changingCommands(again)).toEqual([]);
    // Forward again, then past the primary: no rollback any more.
    for (const name of ['migrateRdonly', 'migrateReplica', 'migrateMaster'] as const) {
      expectJobsSucceeded(cluster.apply(g.phases[name]));
    }
    const [late] = cluster.apply(g.rollback.rdonly);
    expect(late.status).toBe(1);
    expect(late.stderr).toContain("waiting for: cell 'test' serves primary of test_keyspace from shard 0");
    expect(changingCommands([late])).toEqual([]);
    cluster.dispose();
  });

  test('every Vitess flag and command is known to Vitess v9.0.0', () => {
    const all = [...Object.values(g.phases).flat(), ...Object.values(g.rollback).flat()];
    const invocations = vitessInvocations(all);
    expect(invocations.filter((i) => i.binary === 'vtworker')).toHaveLength(3);
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every Job is valid Kubernetes %s', (version) => {
    const all = [...Object.values(g.phases).flat(), ...Object.values(g.rollback).flat()];
    expect(all.filter((o) => o.kind === 'Job')).toHaveLength(9);
    expect(all).toHaveLength(16);
    expect(validateManifests(all, version)).toEqual([]);
  });

  describe('fails for', () => {
    function shards(specs: Array<[string, string, number, Partial<TabletShardProps>?]>) {
      const app = new App();
      const chart = new Chart(app, 'c', { disableResourceNameHashes: true });
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      const vtctld = new Vtctld(chart, 'Vtctld', { release, globalTopology, cell: 'test' });
      const made = specs.map(
        ([ks, shard, uidBase, more]) =>
          new TabletShard(chart, `${ks}${shard}`, { release, globalTopology, cell: 'test', keyspace: ks, shard, uidBase, ...more }),
      );
      return { vtctld, globalTopology, source: made[0], targets: made.slice(1) };
    }

    test('targets that do not cover the source exactly', () => {
      const props = shards([
        [keyspace, '0', 100],
        [keyspace, '-80', 200],
        [keyspace, '90-', 300],
      ]);
      expect(() => new VtworkerResharding(props)).toThrow(
        /VtworkerResharding: 'targets' must cover exactly the key range of shard '0'.*got \['-80', '90-'\]: '-80' is not followed directly by '90-'/,
      );
    });

    test('targets in another keyspace or cell', () => {
      const other = shards([
        [keyspace, '0', 100],
        [keyspace, '-80', 200],
        ['other', '80-', 300],
      ]);
      expect(() => new VtworkerResharding(other)).toThrow(
        /'targets' must be in the source's keyspace 'test_keyspace', got other\/80-/,
      );
      const elsewhere = shards([
        [keyspace, '0', 100],
        [keyspace, '-80', 200],
        [keyspace, '80-', 300, { cell: 'zone2' }],
      ]);
      expect(() => new VtworkerResharding(elsewhere)).toThrow(
        /'targets' must be in the source's cell 'test', got test_keyspace\/80- in cell 'zone2'/,
      );
    });

    test('too few rdonly tablets for vtworker', () => {
      const props = shards([
        [keyspace, '0', 100],
        [keyspace, '-80', 200, { rdonlyCount: 1 }],
        [keyspace, '80-', 300],
      ]);
      expect(() => new VtworkerResharding(props)).toThrow(
        /shard test_keyspace\/-80 has 1 rdonly tablets, but vtworker needs 2 healthy ones \('minHealthyRdonlyTablets'\)/,
      );
      expect(() => new VtworkerResharding({ ...props, minHealthyRdonlyTablets: 1 })).not.toThrow();
    });

    test('a release without vtworker', () => {
      const props = shards([
        [keyspace, '0', 100],
        [keyspace, '-80', 200],
        [keyspace, '80-', 300],
      ]);
      const v15 = releaseWithoutVtworker();
      expect(() => new VtworkerResharding({ ...props, vtctld: { release: v15, grpcAddress: 'vtctld:15999' } })).toThrow(
        /VtworkerResharding: Vitess v15.0.0 has no vtworker \(removed in v15\)/,
      );
    });

    test('rolling back the primary', () => {
      expect(() => g.resharding.reverseServedTypeJob(new Chart(new App(), 'x'), 'Job', ServedType.PRIMARY)).toThrow(
        /reverseServedTypeJob: 'type' must be rdonly or replica, got 'primary'/,
      );
    });
  });
});
