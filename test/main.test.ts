import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import { buildApps, buildVReplicationFlow, buildVtworkerFlow } from '../main';
import { VitessRelease } from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { FakeCluster, changingCommands, expectJobsSucceeded } from './util/fake-cluster';
import { baseName, container, findObject } from './util/synth';
import { filesUnder } from './util/files';

function chartObjects(app: App): Map<string, any[]> {
  return new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
}

/**
 * Small snapshots of a flow instead of its whole output: `<Kind>/<name>` of every object by file
 * (the rollback files apart), and the first tablet StatefulSet and the first Job of the first
 * resharding phase after the new shards (file 11) in full.
 */
function expectSmallSnapshots(charts: Map<string, any[]>, rollback: Map<string, any[]>): void {
  const names = (files: Map<string, any[]>) =>
    Object.fromEntries([...files].map(([file, objects]) => [file, objects.map((o) => `${o.kind}/${baseName(o)}`)]));
  const first = (file: string | undefined, kind: string) => {
    const found = (file === undefined ? undefined : charts.get(file))?.find((o) => o.kind === kind);
    if (!found) {
      throw new Error(`main.test: no ${kind} in ${file ?? 'a file from 11 on'}`);
    }
    return found;
  };
  expect({ ...names(charts), rollback: names(rollback) }).toMatchSnapshot('objects of every file');
  expect(first('01-tablets-test-keyspace-0', 'StatefulSet')).toMatchSnapshot('the first tablet');
  expect(first([...charts.keys()].find((file) => file >= '11'), 'Job')).toMatchSnapshot('the first resharding Job');
}

function script(job: any): string {
  return job.spec.template.spec.containers[0].command[2];
}

describe('the guide example (Vitess v9.0, vtworker flow)', () => {
  const [app, rollbackApp] = buildVtworkerFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'guide-')));
  const charts = chartObjects(app);
  const rollback = chartObjects(rollbackApp);
  const all = [...charts.values(), ...rollback.values()].flat();

  test('one file per step, in apply order; the rollbacks apart', () => {
    expect([...charts.keys()]).toEqual([
      '00-cluster',
      '01-tablets-test-keyspace-0',
      '02-init',
      '10-reshard-new-shards',
      '11-reshard-copy-schema',
      '12-reshard-split-clone',
      '13-reshard-split-diff',
      '14-reshard-migrate-rdonly',
      '15-reshard-migrate-replica',
      '16-reshard-migrate-master',
      '17-reshard-delete-shard',
    ]);
    expect([...charts.keys()].sort()).toEqual([...charts.keys()]);
    expect([...rollback.keys()]).toEqual(['reverse-replica', 'reverse-rdonly']);
  });

  test('the cluster: etcd for global and test, vtctld, vtgate-test and its MySQL Services', () => {
    const cluster = charts.get('00-cluster')!;
    for (const cell of ['global', 'test']) {
      expect(findObject(cluster, 'StatefulSet', `etcd-${cell}`).spec.replicas).toBe(3);
      findObject(cluster, 'Service', `etcd-${cell}-client`);
    }
    findObject(cluster, 'Service', 'vtctld');
    expect(findObject(cluster, 'Service', 'vtgate-test').spec.ports.map((p: any) => p.port)).toEqual([15001, 15991, 3306]);
    for (const name of ['vtgate-test-mysql', 'vtgate-mysql']) {
      expect(findObject(cluster, 'Service', name).spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }] });
    }
    expect(cluster.filter((o) => o.metadata.name.startsWith('vttablet-'))).toEqual([]);
  });

  test('the old shard in a file of its own: tablets 100-104, their Service, PDB and NetworkPolicy, nothing else', () => {
    const file = charts.get('01-tablets-test-keyspace-0')!;
    expect(file.map((o) => `${o.kind}/${baseName(o)}`)).toEqual([
      'Service/vttablet-test-keyspace-0-test',
      'StatefulSet/vttablet-100',
      'StatefulSet/vttablet-101',
      'StatefulSet/vttablet-102',
      'StatefulSet/vttablet-103',
      'StatefulSet/vttablet-104',
      'PodDisruptionBudget/vttablet-test-keyspace-0-test',
      'NetworkPolicy/vttablet-test-keyspace-0-test',
    ]);
    const tablets = file.filter((o) => o.kind === 'StatefulSet');
    expect(tablets.map((t) => [t.spec.template.metadata.labels.tablet, t.spec.template.metadata.labels['tablet-type']])).toEqual([
      ['test-0000000100', 'replica'],
      ['test-0000000101', 'replica'],
      ['test-0000000102', 'replica'],
      ['test-0000000103', 'rdonly'],
      ['test-0000000104', 'rdonly'],
    ]);
    for (const tablet of tablets) {
      expect(tablet.spec.template.spec.volumes).toEqual([
        { name: 'tmp', emptyDir: {} },
        { name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess-backups' } },
      ]);
    }
  });

  test('the init Jobs run the guide commands, each after the previous one took effect', () => {
    const init = charts.get('02-init')!;
    expect(init.map((o) => baseName(o))).toEqual([
      'vtctl-addcellinfo-test',
      'vtctl-initshardmaster-test-keyspace-0',
      'vtctl-applyschema-test-keyspace-messages',
      'vtctl-backup-test-0000000104',
      'vtctl-rebuildvschemagraph',
    ]);
    const actions = init.map((job) => {
      const runs = vitessInvocations([job]).map((i) => i.args.slice(1));
      return runs[runs.length - 1];
    });
    expect(actions[0]).toEqual(['AddCellInfo', '-root=/test', '-server_address=http://etcd-test-client:2379', 'test']);
    expect(actions[1]).toEqual(['InitShardMaster', '-force', 'test_keyspace/0', 'test-0000000100']);
    expect(actions[2][0]).toBe('ApplySchema');
    expect(actions[2][1]).toMatch(/^-sql=CREATE TABLE messages \(\n {2}page BIGINT\(20\) UNSIGNED,/);
    expect(actions[2][2]).toBe('test_keyspace');
    expect(actions[3]).toEqual(['Backup', 'test-0000000104']);
    expect(actions[4]).toEqual(['RebuildVSchemaGraph']);
    // Each Job waits for what the one before it does.
    expect(script(init[1])).toContain("answer and report their MySQL port in cell '\\''test'\\''");
    expect(script(init[2])).toContain("wait_for precondition_1 'shard test_keyspace/0 has a primary'");
    expect(script(init[3])).toContain("wait_for precondition_1 'table '\\''messages'\\'' exists on tablet test-0000000104'");
    expect(script(init[4])).toContain("wait_for precondition_1 'a complete backup of test_keyspace/0 (with its MANIFEST) exists'");
  });

  test('every Vitess flag and command is known to Vitess v9.0.0', () => {
    const invocations = vitessInvocations(all);
    // 15 tablets x (vttablet + mysqlctld) + vtctld + vtgate + SplitClone + 2 SplitDiff.
    expect(invocations.filter((i) => i.binary !== 'vtctlclient')).toHaveLength(35);
    expect(invocations.filter((i) => i.binary === 'vtworker')).toHaveLength(3);
    // Every check and command of the 17 Jobs.
    expect(invocations.filter((i) => i.binary === 'vtctlclient').length).toBeGreaterThan(17);
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s, unknown fields rejected', (version) => {
    // 2 etcd x (StatefulSet, 2 Services, PDB, NetworkPolicy), vtctld and vtgate (Deployment,
    // Service, PDB, NetworkPolicy), vtgate's MySQL Service and the cluster-wide one, 3 shards x
    // (Service, PDB, NetworkPolicy) + 15 tablet StatefulSets, 17 Jobs, the SplitDiff result
    // ConfigMap and 2 x (ServiceAccount, Role, RoleBinding) for the Jobs that write and read it.
    expect(all.length).toBe(68);
    expect(validateManifests(all, version)).toEqual([]);
  });

  test('the new shards: the sharded VSchema, tablets 200-204 and 300-304, their masters', () => {
    const file = charts.get('10-reshard-new-shards')!;
    const tablets = file.filter((o) => o.kind === 'StatefulSet').map((o) => o.spec.template.metadata.labels.tablet);
    expect(tablets).toEqual([200, 201, 202, 203, 204, 300, 301, 302, 303, 304].map((uid) => `test-0000000${uid}`));
    const jobs = file.filter((o) => o.kind === 'Job').map((job) => {
      const runs = vitessInvocations([job]).map((i) => i.args.slice(1));
      return runs[runs.length - 1];
    });
    expect(jobs).toEqual([
      [
        'ApplyVSchema',
        '-vschema={"sharded":true,"vindexes":{"hash":{"type":"hash"}},"tables":{"messages":{"column_vindexes":[{"column":"page","name":"hash"}]}}}',
        'test_keyspace',
      ],
      ['InitShardMaster', '-force', 'test_keyspace/-80', 'test-0000000200'],
      ['InitShardMaster', '-force', 'test_keyspace/80-', 'test-0000000300'],
    ]);
  });

  test('applied in order, the Jobs run the guide commands and reshard test_keyspace/0 into -80 and 80-', () => {
    const cluster = new FakeCluster();
    const ran: Record<string, string[]> = {};
    for (const [file, objects] of charts) {
      if (file === '17-reshard-delete-shard') {
        // The walk-through: kubectl delete -f 01-tablets-test-keyspace-0.k8s.yaml
        cluster.delete(charts.get('01-tablets-test-keyspace-0')!);
      }
      const runs = cluster.apply(objects);
      expectJobsSucceeded(runs);
      ran[file] = changingCommands(runs);
    }
        expect(ran).toEqual({
      '00-cluster': [],
      '01-tablets-test-keyspace-0': [],
      '02-init': [
        `vtctlclient AddCellInfo -root=/test -server_address=http://etcd-test-client:2379 test`,
        'vtctlclient InitShardMaster -force test_keyspace/0 test-0000000100',
        'vtctlclient ApplySchema -sql=CREATE TABLE messages ( ... test_keyspace',
        'vtctlclient Backup test-0000000104',
        // No RebuildVSchemaGraph: the tablets built the SrvVSchema with test_keyspace when they
        // registered (v9.0.0 go/vt/vttablet/tabletmanager/tm_init.go 394-411), so it found it done.
      ],
      '10-reshard-new-shards': [
        expect.stringMatching(/^vtctlclient ApplyVSchema -vschema=\{"sharded":true,.* test_keyspace$/),
        'vtctlclient InitShardMaster -force test_keyspace/-80 test-0000000200',
        'vtctlclient InitShardMaster -force test_keyspace/80- test-0000000300',
      ],
      '11-reshard-copy-schema': [
        'vtctlclient CopySchemaShard test_keyspace/0 test_keyspace/-80',
        'vtctlclient CopySchemaShard test_keyspace/0 test_keyspace/80-',
      ],
      '12-reshard-split-clone': ['vtworker SplitClone -min_healthy_rdonly_tablets=2 test_keyspace/0'],
      '13-reshard-split-diff': [
        'kubernetes PATCH configmap/vtworker-splitdiff-test-keyspace-0-result {"data":{"result":"running"}}',
        'vtworker SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/-80',
        'vtworker SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/80-',
        'kubernetes PATCH configmap/vtworker-splitdiff-test-keyspace-0-result {"data":{"result":"succeeded"}}',
      ],
      '14-reshard-migrate-rdonly': ['vtctlclient MigrateServedTypes test_keyspace/0 rdonly'],
      '15-reshard-migrate-replica': ['vtctlclient MigrateServedTypes test_keyspace/0 replica'],
      '16-reshard-migrate-master': ['vtctlclient MigrateServedTypes test_keyspace/0 master'],
      '17-reshard-delete-shard': ['vtctlclient DeleteShard -recursive test_keyspace/0'],
    });
    const state = cluster.state;
    expect(Object.keys(state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    expect(state.srv.test_keyspace.partitions).toEqual({ 1: ['-80', '80-'], 2: ['-80', '80-'], 3: ['-80', '80-'] });
    expect(state.backups).toEqual({ 'test_keyspace/0': ['2026-11-25.120000.test-0000000104'] });

    // Every resharding file applied again does nothing more (DeleteShard finds the shard gone).
    const again = [...charts.entries()].filter(([file]) => file >= '10').flatMap(([, objects]) => cluster.apply(objects));
    expect(again.map((run) => run.status)).toEqual(again.map(() => 0));
    expect(changingCommands(again)).toEqual([]);
    // 02-init applied after the old shard is gone does nothing either: InitShardMaster and
    // ApplySchema find the primary served by -80 and 80-, the others their work done.
    const init = cluster.apply(charts.get('02-init')!);
    expect(init.map((run) => [run.name, run.status, run.stdout.includes('already done')])).toEqual([
      ['vtctl-addcellinfo-test', 0, true],
      ['vtctl-initshardmaster-test-keyspace-0', 0, true],
      ['vtctl-applyschema-test-keyspace-messages', 0, true],
      ['vtctl-backup-test-0000000104', 0, true],
      ['vtctl-rebuildvschemagraph', 0, true],
    ]);
    expect(changingCommands(init)).toEqual([]);
    cluster.dispose();
  });

  test('the rollback files reverse replica and rdonly', () => {
    const commands = [...rollback.values()].map((objects) => {
      const runs = vitessInvocations(objects).map((i) => i.args.slice(1));
      return runs[runs.length - 1];
    });
    expect(commands).toEqual([
      ['MigrateServedTypes', '-reverse', 'test_keyspace/0', 'replica'],
      ['MigrateServedTypes', '-reverse', 'test_keyspace/0', 'rdonly'],
    ]);
  });

  test('the objects of every file, and a tablet and the first resharding Job in full', () => {
    expectSmallSnapshots(charts, rollback);
  });
});

describe('the current cluster (Vitess v22.0, VReplication flow)', () => {
  const [app, rollbackApp] = buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-')));
  const charts = chartObjects(app);
  const rollback = chartObjects(rollbackApp);
  const all = [...charts.values(), ...rollback.values()].flat();

  test('the cluster with VTOrc, the old shard, the init Jobs, the resharding phases; the rollbacks apart', () => {
    expect([...charts.keys()]).toEqual([
      '00-cluster',
      '01-tablets-test-keyspace-0',
      '02-init',
      '10-reshard-new-shards',
      '11-reshard-create',
      '12-reshard-vdiff',
      '13-reshard-switch-reads',
      '14-reshard-switch-primary',
      '15-reshard-complete',
      '16-reshard-delete-shard',
    ]);
    expect([...rollback.keys()]).toEqual(['reverse-primary', 'reverse-reads']);
    const cluster = charts.get('00-cluster')!;
    expect(container(findObject(cluster, 'Deployment', 'vtorc'), 'vtorc').image).toBe('vitess/lite:v22.0.3');
    expect(container(findObject(cluster, 'StatefulSet', 'etcd-test'), 'etcd').image).toMatch(/^quay.io\/coreos\/etcd:/);
  });

  test('the init Jobs run through vtctldclient, each after the previous one took effect', () => {
    const init = charts.get('02-init')!;
    expect(init.map((o) => baseName(o))).toEqual([
      'vtctl-addcellinfo-test',
      'vtctl-createkeyspace-test-keyspace',
      'vtctl-setkeyspacedurabilitypolicy-test-keyspace',
      'vtctl-plannedreparentshard-test-keyspace-0',
      'vtctl-applyschema-test-keyspace-messages',
      'vtctl-backup-test-0000000104',
      'vtctl-rebuildvschemagraph',
    ]);
    const actions = init.map((job) => {
      const runs = vitessInvocations([job]);
      expect(runs.every((run) => run.binary === 'vtctldclient')).toBe(true);
      return runs[runs.length - 1].args.slice(1);
    });
    expect(actions[0]).toEqual(['AddCellInfo', '--root=/vitess/test', '--server-address=etcd-test-client:2379', 'test']);
    expect(actions[1]).toEqual(['CreateKeyspace', '--durability-policy=semi_sync', 'test_keyspace']);
    expect(actions[2]).toEqual(['SetKeyspaceDurabilityPolicy', '--durability-policy=semi_sync', 'test_keyspace']);
    expect(actions[3]).toEqual(['PlannedReparentShard', '--new-primary=test-0000000100', 'test_keyspace/0']);
    expect(actions[4][0]).toBe('ApplySchema');
    expect(actions[4][1]).toMatch(/^--sql=CREATE TABLE messages/);
    expect(actions[5]).toEqual(['Backup', 'test-0000000104']);
    expect(actions[6]).toEqual(['RebuildVSchemaGraph']);
    expect(script(init[3])).toContain("wait_for precondition_1 'keyspace '\\''test_keyspace'\\'' has a durability policy'");
    expect(script(init[3])).toContain("wait_for precondition_2 'tablets test-0000000100, ");
    expect(script(init[3])).toContain('GetTablets --cell=test');
    expect(script(init[3])).toContain('PingTablet test-0000000104');
    expect(script(init[4])).toContain("wait_for precondition_1 'shard test_keyspace/0 has a primary'");
    expect(script(init[5])).toContain('GetSchema --table-names-only test-0000000104');
    expect(script(init[6])).toContain('for manifest in /vt/backups/test_keyspace/0/*/MANIFEST; do');
  });

  test('applied in order, the Jobs initialise the cluster and reshard it; applied again, they do nothing', () => {
    const cluster = new FakeCluster();
    const ran: Record<string, string[]> = {};
    for (const [file, objects] of charts) {
      if (file === '16-reshard-delete-shard') {
        cluster.delete(charts.get('01-tablets-test-keyspace-0')!);
      }
      const runs = cluster.apply(objects);
      expectJobsSucceeded(runs);
      ran[file] = changingCommands(runs);
      if (file === '15-reshard-complete') {
        // complete dropped the source shard and its tablets' records, as Vitess does.
        expect(cluster.state.shards['test_keyspace/0']).toBeUndefined();
        expect(Object.values(cluster.state.tablets).filter((t) => t.shard === '0' && t.registered)).toEqual([]);
        // Tablets 100-104 still run: before their StatefulSets are deleted, they restart and
        // register again, re-creating shard 0, not serving, which the next file deletes.
        cluster.tick();
        expect(cluster.state.shards['test_keyspace/0']).toMatchObject({ primary: null, isMasterServing: false });
      }
    }
    const wf = '--workflow=reshard --target-keyspace=test_keyspace';
    // The tablets created the keyspace when they registered, so CreateKeyspace had nothing to do
    // and the durability policy was set by its own Job.
    expect(ran).toEqual({
      '00-cluster': [],
      '01-tablets-test-keyspace-0': [],
      '02-init': [
        'vtctldclient AddCellInfo --root=/vitess/test --server-address=etcd-test-client:2379 test',
        'vtctldclient SetKeyspaceDurabilityPolicy --durability-policy=semi_sync test_keyspace',
        'vtctldclient PlannedReparentShard --new-primary=test-0000000100 test_keyspace/0',
        'vtctldclient ApplySchema --sql=CREATE TABLE messages ( ... test_keyspace',
        'vtctldclient Backup test-0000000104',
        // No RebuildVSchemaGraph: the tablets built the SrvVSchema (v24.0.4 tm_init.go 626-643).
      ],
      '10-reshard-new-shards': [
        expect.stringMatching(/^vtctldclient ApplyVSchema --vschema=\{"sharded":true,.* test_keyspace$/),
        'vtctldclient PlannedReparentShard --new-primary=test-0000000200 test_keyspace/-80',
        'vtctldclient PlannedReparentShard --new-primary=test-0000000300 test_keyspace/80-',
      ],
      '11-reshard-create': [`vtctldclient Reshard ${wf} create --source-shards=0 --target-shards=-80,80-`],
      '12-reshard-vdiff': [`vtctldclient VDiff ${wf} create`],
      '13-reshard-switch-reads': [`vtctldclient Reshard ${wf} switchtraffic --tablet-types=rdonly,replica`],
      '14-reshard-switch-primary': [`vtctldclient Reshard ${wf} switchtraffic --tablet-types=primary`],
      '15-reshard-complete': [`vtctldclient Reshard ${wf} complete`],
      '16-reshard-delete-shard': ['vtctldclient DeleteShards --recursive test_keyspace/0'],
    });
    const state = cluster.state;
    expect(state.keyspaces).toEqual({ test_keyspace: { durability: 'semi_sync' } });
    expect(Object.keys(state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    expect(state.srv.test_keyspace.partitions).toEqual({ 1: ['-80', '80-'], 2: ['-80', '80-'], 3: ['-80', '80-'] });
    expect(state.backups).toEqual({ 'test_keyspace/0': ['2026-11-25.120000.test-0000000104'] });

    const again = [...charts.entries()].filter(([file]) => file >= '10').flatMap(([, objects]) => cluster.apply(objects));
    expect(again.map((run) => run.status)).toEqual(again.map(() => 0));
    expect(changingCommands(again)).toEqual([]);
    cluster.dispose();
  });

  test('the rollback files reverse the primary, then the reads', () => {
    const commands = [...rollback.values()].map((objects) => {
      const runs = vitessInvocations(objects).map((i) => i.args.slice(1));
      return runs[runs.length - 1];
    });
    expect(commands).toEqual([
      ['Reshard', '--workflow=reshard', '--target-keyspace=test_keyspace', 'reversetraffic', '--tablet-types=primary'],
      ['Reshard', '--workflow=reshard', '--target-keyspace=test_keyspace', 'reversetraffic', '--tablet-types=rdonly,replica'],
    ]);
  });

  test('every Vitess flag and vtctldclient command is known to Vitess v22.0.3; no vtworker, no vtctlclient', () => {
    const invocations = vitessInvocations(all);
    expect(invocations.filter((i) => i.binary === 'vtworker' || i.binary === 'vtctlclient')).toEqual([]);
    expect(new Set(invocations.map((i) => i.binary))).toEqual(new Set(['vtctld', 'vtgate', 'vtorc', 'vttablet', 'mysqlctld', 'vtctldclient']));
    expect(checkInvocations(invocations, 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s, unknown fields rejected', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });

  test('the objects of every file, and a tablet and the first resharding Job in full', () => {
    expectSmallSnapshots(charts, rollback);
  });
});

describe('the current cluster on Vitess v24.0 (ExampleChanges.modernRelease)', () => {
  const [app, rollbackApp] = buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-v24-')), {
    modernRelease: VitessRelease.V24_0,
  });
  const charts = chartObjects(app);
  const rollback = chartObjects(rollbackApp);
  const all = [...charts.values(), ...rollback.values()].flat();
  const [v22App, v22RollbackApp] = buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-v22-')));
  const v22All = [...chartObjects(v22App).values(), ...chartObjects(v22RollbackApp).values()].flat();

  test('every Vitess flag and vtctldclient command is known to Vitess v24.0.4, under its canonical (dashed) name', () => {
    const invocations = vitessInvocations(all);
    expect(new Set(invocations.map((i) => i.binary))).toEqual(new Set(['vtctld', 'vtgate', 'vtorc', 'vttablet', 'mysqlctld', 'vtctldclient']));
    expect(invocations).toHaveLength(vitessInvocations(v22All).length);
    expect(checkInvocations(invocations, 'v24')).toEqual([]);
    // The underscore spellings of v22.0.3 are not v24's canonical names.
    expect(checkInvocations(invocations, 'modern')).toContainEqual(
      "StatefulSet/vttablet-100 vttablet: vttablet: unknown vttablet flag '--init-keyspace=test_keyspace'",
    );
  });

  test('the same objects as on v22.0, but v24 images, dashed flag names, no --logtostderr and no vtctld --cell', () => {
    // GIVEN the v22.0 output with what v24.0 changes applied by hand
    const vitessServers = /^\/vt\/bin\/(vtctld|vtgate|vtorc|vttablet|mysqlctld)$/;
    const expected = JSON.parse(JSON.stringify(v22All).split('vitess/lite:v22.0.3').join('vitess/lite:v24.0.4'));
    for (const object of expected) {
      for (const c of object.spec?.template?.spec?.containers ?? []) {
        const binary = vitessServers.exec(c.command?.[0] ?? '')?.[1];
        if (!binary) continue;
        c.args = c.args
          .filter((a: string) => a !== '--logtostderr' && !(binary === 'vtctld' && a.startsWith('--cell=')))
          .map((a: string) => a.replace(/^--([a-z0-9_-]+)/, (_m, name: string) => `--${name.replace(/_/g, '-')}`));
      }
    }
    // THEN the v24.0 output is exactly that, but for the Jobs' object names, whose hash of the
    // Job's content (the image) differs
    const withoutJobHash = (objects: any[]) =>
      objects.map((o) => (o.kind === 'Job' ? { ...o, metadata: { ...o.metadata, name: baseName(o) } } : o));
    expect(withoutJobHash(all)).toEqual(withoutJobHash(expected));
    const jobNames = (objects: any[]) => objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name);
    expect(jobNames(all).filter((name) => jobNames(v22All).includes(name))).toEqual([]);
    const vtctld = container(findObject(all, 'Deployment', 'vtctld'), 'vtctld');
    expect(vtctld.args).toEqual([
      '--topo-implementation=etcd2',
      '--topo-global-server-address=etcd-global-client:2379',
      '--topo-global-root=/vitess/global',
      '--port=15000',
      '--grpc-port=15999',
      '--service-map=grpc-vtctl,grpc-vtctld',
      '--backup-storage-implementation=file',
      '--file-backup-storage-root=/vt/backups',
    ]);
    expect(container(findObject(all, 'StatefulSet', 'vttablet-100'), 'mysql').args).toEqual([
      '--tablet-uid=100',
      '--mysql-port=3306',
      '--socket-file=/vt/vtdataroot/mysqlctl.sock',
      '--init-db-sql-file=/vt/config/init_db.sql',
    ]);
  });

  test('applied in order, the Jobs run the same commands as on v22.0', () => {
    // The changing commands of a run of every file in order, the old tablets restarting once
    // after complete (as in the v22.0 run above).
    const commandsOf = (flow: Map<string, any[]>): string[] => {
      const cluster = new FakeCluster();
      try {
        const ran: string[] = [];
        for (const [file, objects] of flow) {
          if (file === '16-reshard-delete-shard') {
            cluster.delete(flow.get('01-tablets-test-keyspace-0')!);
          }
          const runs = cluster.apply(objects);
          expectJobsSucceeded(runs);
          ran.push(...changingCommands(runs));
          if (file === '15-reshard-complete') cluster.tick();
        }
        expect(Object.keys(cluster.state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
        return ran;
      } finally {
        cluster.dispose();
      }
    };
    const wf = '--workflow=reshard --target-keyspace=test_keyspace';
    expect(commandsOf(charts)).toEqual([
      'vtctldclient AddCellInfo --root=/vitess/test --server-address=etcd-test-client:2379 test',
      'vtctldclient SetKeyspaceDurabilityPolicy --durability-policy=semi_sync test_keyspace',
      'vtctldclient PlannedReparentShard --new-primary=test-0000000100 test_keyspace/0',
      'vtctldclient ApplySchema --sql=CREATE TABLE messages ( ... test_keyspace',
      'vtctldclient Backup test-0000000104',
      expect.stringMatching(/^vtctldclient ApplyVSchema --vschema=\{"sharded":true,.* test_keyspace$/),
      'vtctldclient PlannedReparentShard --new-primary=test-0000000200 test_keyspace/-80',
      'vtctldclient PlannedReparentShard --new-primary=test-0000000300 test_keyspace/80-',
      `vtctldclient Reshard ${wf} create --source-shards=0 --target-shards=-80,80-`,
      `vtctldclient VDiff ${wf} create`,
      `vtctldclient Reshard ${wf} switchtraffic --tablet-types=rdonly,replica`,
      `vtctldclient Reshard ${wf} switchtraffic --tablet-types=primary`,
      `vtctldclient Reshard ${wf} complete`,
      'vtctldclient DeleteShards --recursive test_keyspace/0',
    ]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s, unknown fields rejected', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });

  test('modernRelease defaults to VitessRelease.V22_0', () => {
    const [explicit, explicitRollback] = buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-v22-explicit-')), {
      modernRelease: VitessRelease.V22_0,
    });
    expect([...chartObjects(explicit).values(), ...chartObjects(explicitRollback).values()].flat()).toEqual(v22All);
  });

  test('fails for a modernRelease without vtctldclient and VTOrc', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'current-v9-'));
    expect(() => buildVReplicationFlow(outdir, { modernRelease: VitessRelease.V9_0 })).toThrow(
      "Vtorc: 'release' must be Vitess v16 or later, got v9.0.0; earlier releases elect primaries with InitShardMaster (TabletShard.initPrimaryJob)",
    );
  });
});

test('main writes each flow into its own folder of dist', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
  for (const app of buildApps(outdir)) {
    app.synth();
  }
  expect(fs.readdirSync(outdir)).toEqual(['vreplication', 'vtworker']);
  expect(fs.readdirSync(path.join(outdir, 'vreplication'))).toEqual([
    '00-cluster.k8s.yaml',
    '01-tablets-test-keyspace-0.k8s.yaml',
    '02-init.k8s.yaml',
    '10-reshard-new-shards.k8s.yaml',
    '11-reshard-create.k8s.yaml',
    '12-reshard-vdiff.k8s.yaml',
    '13-reshard-switch-reads.k8s.yaml',
    '14-reshard-switch-primary.k8s.yaml',
    '15-reshard-complete.k8s.yaml',
    '16-reshard-delete-shard.k8s.yaml',
    'rollback',
  ]);
  expect(fs.readdirSync(path.join(outdir, 'vreplication', 'rollback'))).toEqual(['reverse-primary.k8s.yaml', 'reverse-reads.k8s.yaml']);
  expect(fs.readdirSync(path.join(outdir, 'vtworker'))).toEqual([
    '00-cluster.k8s.yaml',
    '01-tablets-test-keyspace-0.k8s.yaml',
    '02-init.k8s.yaml',
    '10-reshard-new-shards.k8s.yaml',
    '11-reshard-copy-schema.k8s.yaml',
    '12-reshard-split-clone.k8s.yaml',
    '13-reshard-split-diff.k8s.yaml',
    '14-reshard-migrate-rdonly.k8s.yaml',
    '15-reshard-migrate-replica.k8s.yaml',
    '16-reshard-migrate-master.k8s.yaml',
    '17-reshard-delete-shard.k8s.yaml',
    'rollback',
  ]);
  expect(fs.readdirSync(path.join(outdir, 'vtworker', 'rollback'))).toEqual(['reverse-rdonly.k8s.yaml', 'reverse-replica.k8s.yaml']);
  fs.rmSync(outdir, { recursive: true, force: true });
});

test('two syntheses in separate processes write byte-identical files', () => {
  // GIVEN two runs of the example app, each in a process of its own, with the app command of cdk8s.yaml
  const appCommand = /^app: node (.*) main\.ts$/m.exec(fs.readFileSync(path.join(__dirname, '..', 'cdk8s.yaml'), 'utf8'));
  expect(appCommand).not.toBeNull();
  const outdirs = [1, 2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'determinism-')));
  try {
    for (const outdir of outdirs) {
      const run = spawnSync(process.execPath, [...appCommand![1].split(' '), 'main.ts'], {
        cwd: path.join(__dirname, '..'),
        env: { ...process.env, CDK8S_OUTDIR: outdir },
        encoding: 'utf8',
      });
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    }
    // THEN the same files with the same bytes
    const [first, second] = outdirs.map((outdir) => filesUnder(outdir));
    expect(first.size).toBe(25);
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [file, content] of first) {
      expect({ file, same: second.get(file)!.equals(content) }).toEqual({ file, same: true });
    }
  } finally {
    outdirs.forEach((outdir) => fs.rmSync(outdir, { recursive: true, force: true }));
  }
});
