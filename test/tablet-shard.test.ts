import { Testing } from 'cdk8s';
import { BackupStorage, EtcdCell, TabletShard, TabletType, VitessRelease } from '../lib';
import { container, findObject, testChart } from './util/synth';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';

function shard(props: Partial<ConstructorParameters<typeof TabletShard>[2]> = {}) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const construct = new TabletShard(chart, 'Shard', {
    globalTopology,
    cell: 'test',
    keyspace: 'test_keyspace',
    shard: '0',
    backup: BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess' }),
    ...props,
  });
  return { chart, construct, objects: Testing.synth(chart) };
}

describe('TabletShard', () => {
  test('the guide default: 5 tablets 100-104, 3 replica and 2 rdonly', () => {
    const { construct, objects } = shard();
    expect(construct.tablets.map((t) => [t.alias, t.type, t.name])).toEqual([
      ['test-0000000100', TabletType.REPLICA, 'vttablet-100'],
      ['test-0000000101', TabletType.REPLICA, 'vttablet-101'],
      ['test-0000000102', TabletType.REPLICA, 'vttablet-102'],
      ['test-0000000103', TabletType.RDONLY, 'vttablet-103'],
      ['test-0000000104', TabletType.RDONLY, 'vttablet-104'],
    ]);
    expect(construct.primaryCandidate).toBe('test-0000000100');
    expect(construct.rdonlyAliases).toEqual(['test-0000000103', 'test-0000000104']);
    expect(objects.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('vttablet')).map((o) => o.metadata.name)).toEqual([
      'vttablet-100',
      'vttablet-101',
      'vttablet-102',
      'vttablet-103',
      'vttablet-104',
    ]);
  });

  test('each tablet has its alias, UID and type literal in its manifest', () => {
    const { objects } = shard();
    const sts = findObject(objects, 'StatefulSet', 'vttablet-104');
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe('vttablet-test-keyspace-0-test');
    expect(sts.spec.selector.matchLabels).toEqual({ app: 'vitess', component: 'vttablet', tablet: 'test-0000000104' });
    expect(sts.spec.template.metadata.labels).toMatchObject({
      'cell': 'test',
      'keyspace': 'test_keyspace',
      'shard': '0',
      'tablet': 'test-0000000104',
      'tablet-type': 'rdonly',
    });
    const vttablet = container(sts, 'vttablet');
    expect(vttablet.command).toEqual(['/vt/bin/vttablet']);
    expect(vttablet.args).toEqual([
      '-topo_implementation=etcd2',
      '-topo_global_server_address=http://etcd-global-client:2379',
      '-topo_global_root=/global',
      '-tablet-path=test-0000000104',
      '-tablet_hostname=$(POD_IP)',
      '-init_keyspace=test_keyspace',
      '-init_shard=0',
      '-init_tablet_type=rdonly',
      '-port=15002',
      '-grpc_port=16002',
      '-service_map=grpc-queryservice,grpc-tabletmanager,grpc-updatestream',
      '-mysqlctl_socket=/vt/vtdataroot/mysqlctl.sock',
      '-health_check_interval=5s',
      '-enable_replication_reporter',
      '-enable_semi_sync',
      '-binlog_use_v3_resharding_mode',
      '-backup_storage_implementation=file',
      '-file_backup_storage_root=/vt/backups',
      '-restore_from_backup',
      '-logtostderr',
    ]);
    expect(vttablet.env).toEqual([{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]);
    expect(vttablet.ports).toEqual([
      { name: 'web', containerPort: 15002 },
      { name: 'grpc', containerPort: 16002 },
    ]);
    const mysql = container(sts, 'mysql');
    expect(mysql.command).toEqual(['/vt/bin/mysqlctld']);
    expect(mysql.args).toEqual([
      '-tablet_uid=104',
      '-mysql_port=3306',
      '-socket_file=/vt/vtdataroot/mysqlctl.sock',
      '-init_db_sql_file=/vt/config/init_db.sql',
      '-logtostderr',
    ]);
  });

  test('data on a retained PVC and backups on the shared volume', () => {
    const { objects } = shard({ storageSize: '50Gi', storageClassName: 'ssd' });
    const sts = findObject(objects, 'StatefulSet', 'vttablet-100');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('vtdataroot');
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'ssd',
      resources: { requests: { storage: '50Gi' } },
    });
    expect(sts.spec.template.spec.volumes).toEqual([
      { name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess' } },
    ]);
    for (const name of ['vttablet', 'mysql']) {
      expect(container(sts, name).volumeMounts).toEqual([
        { name: 'vtdataroot', mountPath: '/vt/vtdataroot' },
        { name: 'backups', mountPath: '/vt/backups' },
      ]);
    }
  });

  test('probes: startup long enough for a restore, readiness /healthz, mysqld TCP', () => {
    const { objects } = shard();
    const sts = findObject(objects, 'StatefulSet', 'vttablet-100');
    const vttablet = container(sts, 'vttablet');
    expect(vttablet.startupProbe.httpGet).toEqual({ path: '/debug/vars', port: 15002 });
    expect(vttablet.startupProbe.periodSeconds * vttablet.startupProbe.failureThreshold).toBe(3600);
    expect(vttablet.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 15002 });
    expect(vttablet.livenessProbe.httpGet).toEqual({ path: '/debug/vars', port: 15002 });
    expect(container(sts, 'mysql').readinessProbe.tcpSocket).toEqual({ port: 3306 });
  });

  test('sanitises shard names in labels and names, and one PDB per shard', () => {
    const { objects } = shard({ shard: '-80', uidBase: 200 });
    const sts = findObject(objects, 'StatefulSet', 'vttablet-200');
    expect(sts.spec.template.metadata.labels.shard).toBe('xx-80');
    expect(container(sts, 'vttablet').args).toContain('-init_shard=-80');
    const pdb = findObject(objects, 'PodDisruptionBudget', 'vttablet-test-keyspace-xx-80-test');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual({
      app: 'vitess',
      component: 'vttablet',
      cell: 'test',
      keyspace: 'test_keyspace',
      shard: 'xx-80',
    });
    expect(findObject(shard({ shard: '80-', uidBase: 300 }).objects, 'StatefulSet', 'vttablet-300').spec.template.metadata.labels.shard).toBe('80-xx');
  });

  test('no backup: no backup flags, volume or restore', () => {
    const { objects } = shard({ backup: undefined });
    const sts = findObject(objects, 'StatefulSet', 'vttablet-100');
    const args: string[] = container(sts, 'vttablet').args;
    expect(args.filter((a) => a.includes('backup'))).toEqual([]);
    expect(sts.spec.template.spec.volumes).toBeUndefined();
  });

  test('elects the first replica with InitShardMaster -force, guarded', () => {
    const { chart, construct } = shard();
    const job = construct.initPrimaryJob(chart, 'Init', { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' });
    expect(job.jobName).toBe('vtctl-initshardmaster-test-keyspace-0');
    expect(job.commandLines).toEqual([
      ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'InitShardMaster', '-force', 'test_keyspace/0', 'test-0000000100'],
    ]);
    const script: string = findObject(Testing.synth(chart), 'Job', job.jobName).spec.template.spec.containers[0].command[2];
    expect(script).toContain("wait_for precondition_1 'tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 registered in cell '\\''test'\\'''");
    expect(script).toContain('GetShard test_keyspace/0');
    expect(script.indexOf('if already_done')).toBeLessThan(script.indexOf('InitShardMaster -force'));
  });

  test('fails for a UID used twice in the same app', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    new TabletShard(chart, 'A', { globalTopology, cell: 'test', keyspace: 'ks', shard: '-80', uidBase: 200 });
    expect(() => new TabletShard(chart, 'B', { globalTopology, cell: 'other', keyspace: 'ks', shard: '80-', uidBase: 204 })).toThrow(
      /tablet UID 204 \(other-0000000204\) is already used by test-0000000204 in test\/A/,
    );
  });

  test('fails for bad names and counts', () => {
    expect(() => shard({ shard: '80-40' })).toThrow(/'shard' key range '80-40' must have its start below its end/);
    expect(() => shard({ shard: 'A0-' })).toThrow(/'shard' must be '0', '-' or a lowercase hex key range/);
    expect(() => shard({ keyspace: 'Test' })).toThrow(/'keyspace' must start with a lowercase letter.*got 'Test'/);
    expect(() => shard({ cell: 'zone-1' })).toThrow(/'cell' must be 1 to 40 lowercase letters or digits.*got 'zone-1'/);
    expect(() => shard({ replicaCount: 0 })).toThrow(/'replicaCount' must be a whole number of at least 1.*got 0/);
    expect(() => shard({ rdonlyCount: -1 })).toThrow(/'rdonlyCount' must be a whole number of at least 0, got -1/);
    expect(() => shard({ uidBase: 4294967293 })).toThrow(/'uidBase' must be a whole number from 1 to 4294967291 .*got 4294967293/);
    expect(() => shard({ backup: undefined, restoreFromBackup: true })).toThrow(/'restoreFromBackup' is true but no 'backup'/);
  });
});

test('on Vitess v22.0: pflag spelling, no semi-sync or v3 resharding flags, flags known to v22.0.3', () => {
  const { objects } = shard({ release: VitessRelease.V22_0 });
  const tablet = findObject(objects, 'StatefulSet', 'vttablet-100');
  const vttablet = container(tablet, 'vttablet');
  expect(vttablet.image).toBe('vitess/lite:v22.0.3');
  expect(vttablet.args).toContain('--tablet-path=test-0000000100');
  expect(vttablet.args).toContain('--topo_global_root=/vitess/global');
  expect(vttablet.args).toContain('--init_tablet_type=replica');
  expect(vttablet.args.filter((a: string) => /semi_sync|v3_resharding/.test(a))).toEqual([]);
  expect(container(tablet, 'mysql').args).toContain('--tablet_uid=100');
  const rdonly = container(findObject(objects, 'StatefulSet', 'vttablet-104'), 'vttablet');
  expect(rdonly.args).toContain('--init_tablet_type=rdonly');
  expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
});

test('on Vitess v22.0 the primary is elected with PlannedReparentShard, through vtctldclient', () => {
  const { chart, construct } = shard({ release: VitessRelease.V22_0 });
  const job = construct.initPrimaryJob(chart, 'Init', { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' });
  expect(job.jobName).toBe('vtctl-plannedreparentshard-test-keyspace-0');
  expect(job.commandLines).toEqual([
    ['/vt/bin/vtctldclient', '--server=vtctld:15999', 'PlannedReparentShard', '--new-primary=test-0000000100', 'test_keyspace/0'],
  ]);
  const objects = Testing.synth(chart).filter((o) => o.kind === 'Job');
  expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
});
