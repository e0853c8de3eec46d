import { Testing } from 'cdk8s';
import { BackupStorage, EtcdCell, TabletShard, TabletType, UserIds, VitessRelease, Vtctld } from '../lib';
import { FakeCluster, expectJobsSucceeded } from './util/fake-cluster';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
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
      '-tablet_hostname=$(POD_NAME).vttablet-test-keyspace-0-test',
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
    expect(vttablet.env).toEqual([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
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
      { name: 'tmp', emptyDir: {} },
      { name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess' } },
    ]);
    for (const name of ['vttablet', 'mysql']) {
      expect(container(sts, name).volumeMounts).toEqual([
        { name: 'vtdataroot', mountPath: '/vt/vtdataroot' },
        { name: 'tmp', mountPath: '/tmp' },
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
    expect(sts.spec.template.spec.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
  });

  test('elects the first replica with InitShardMaster -force, guarded', () => {
    const { chart, construct } = shard();
    const job = construct.initPrimaryJob(chart, 'Init', { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' });
    expect(job.jobName).toBe('vtctl-initshardmaster-test-keyspace-0');
    expect(job.commandLines).toEqual([
      ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'InitShardMaster', '-force', 'test_keyspace/0', 'test-0000000100'],
    ]);
    const script: string = findObject(Testing.synth(chart), 'Job', job.jobName).spec.template.spec.containers[0].command[2];
    // Every tablet must answer and report its MySQL port: an election fails on a tablet whose mysqld
    // is still starting (see JobCondition.tabletsReady).
    expect(script).toContain("wait_for precondition_1 'tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 answer and report their MySQL port in cell '\\''test'\\'''");
    for (const uid of [100, 101, 102, 103, 104]) {
      expect(script).toContain(`Ping test-0000000${uid}`);
    }
    // A failed election is tried again, only while the shard has no primary.
    expect(script).toContain('until /vt/bin/vtctlclient -server=vtctld:15999 InitShardMaster -force test_keyspace/0 test-0000000100; do');
    expect(script).toContain('  skip_if_done\n');
    expect(script).toContain('GetShard test_keyspace/0');
    expect(script.indexOf('if already_done')).toBeLessThan(script.indexOf('InitShardMaster -force'));
  });

  test('supersededBy: the election also does nothing once the cell serves the primary from the new shards', () => {
    const { chart, construct } = shard();
    const vtctld = { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' };
    // Given out of key-range order, checked in it (the order of the serving graph).
    const job = construct.initPrimaryJob(chart, 'Init', vtctld, { supersededBy: ['80-', '-80'] });
    const script: string = findObject(Testing.synth(chart), 'Job', job.jobName).spec.template.spec.containers[0].command[2];
    expect(script).toContain(
      "already done ((shard test_keyspace/0 has a primary and tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 have replicated an election (a row in _vt.reparent_journal)) or cell '\\''test'\\'' serves primary of test_keyspace from shards -80, 80-): nothing to do",
    );
    expect(script).toContain('GetSrvKeyspace test test_keyspace');
    expect(script).toContain('already_done_1 || already_done_2');
    // Without it, only a primary of this shard counts.
    const plain = shard();
    const plainJob = plain.construct.initPrimaryJob(plain.chart, 'Init', vtctld);
    const plainScript: string = findObject(Testing.synth(plain.chart), 'Job', plainJob.jobName).spec.template.spec.containers[0].command[2];
    expect(plainScript).toContain(
      'already done (shard test_keyspace/0 has a primary and tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 have replicated an election (a row in _vt.reparent_journal)): nothing to do',
    );
    expect(plainScript).not.toContain('GetSrvKeyspace');
  });

  test.each([
    [[], /'supersededBy' must name at least one shard that replaces test_keyspace\/0, got none/],
    [['-80', '8-'], /TabletShard.initPrimaryJob: 'supersededBy' must be '0', '-' or a lowercase hex key range .*got '8-'/],
    [['0'], /TabletShard.initPrimaryJob: 'supersededBy' must name the shards that replace test_keyspace\/0, not shard '0' itself/],
    [['-80', '-80', '80-'], /'supersededBy' must name each shard once, got '-80' more than once/],
    [['-80'], /'supersededBy' must be shards that .* cover the key range of shard '0' .*got \['-80'\]: the last shard '-80' ends before '0' ends/],
    [['-40', '80-'], /'supersededBy' must be shards .*got \['-40', '80-'\]: '-40' is not followed directly by '80-'/],
  ])('supersededBy %j is refused', (supersededBy, message) => {
    const { chart, construct } = shard();
    expect(() => construct.initPrimaryJob(chart, 'Init', { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' }, { supersededBy })).toThrow(message);
  });

  test('supersededBy of a merged shard: the shard that covers it', () => {
    const { chart, construct } = shard({ shard: '-80', uidBase: 200 });
    const job = construct.initPrimaryJob(chart, 'Init', { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' }, { supersededBy: ['0'] });
    const script: string = findObject(Testing.synth(chart), 'Job', job.jobName).spec.template.spec.containers[0].command[2];
    expect(script).toContain('serves primary of test_keyspace from shard 0)');
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

test('on Vitess v24.0: dashed flag names, no --logtostderr, flags known to v24.0.4', () => {
  const { objects } = shard({ release: VitessRelease.V24_0 });
  const tablet = findObject(objects, 'StatefulSet', 'vttablet-100');
  const vttablet = container(tablet, 'vttablet');
  expect(vttablet.image).toBe('vitess/lite:v24.0.4');
  expect(vttablet.args).toContain('--tablet-path=test-0000000100');
  expect(vttablet.args).toContain('--topo-global-root=/vitess/global');
  expect(vttablet.args).toContain('--init-keyspace=test_keyspace');
  expect(vttablet.args).toContain('--init-tablet-type=replica');
  expect(vttablet.args.filter((a: string) => a.includes('_') && a.split('=')[0].includes('_'))).toEqual([]);
  expect(vttablet.args).not.toContain('--logtostderr');
  expect(container(tablet, 'mysql').args).toEqual([
    '--tablet-uid=100',
    '--mysql-port=3306',
    '--socket-file=/vt/vtdataroot/mysqlctl.sock',
    '--init-db-sql-file=/vt/config/init_db.sql',
  ]);
  expect(checkInvocations(vitessInvocations(objects), 'v24')).toEqual([]);
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

describe('TabletShard production defaults', () => {
  test('a shard: tablets spread across nodes and zones, replaced only when deleted, scraped, with a long grace period', () => {
    // GIVEN
    const { objects } = shard();
    // THEN
    for (const uid of [100, 101, 102, 103, 104]) {
      const sts = findObject(objects, 'StatefulSet', `vttablet-${uid}`);
      const pod = sts.spec.template.spec;
      expect(sts.spec.updateStrategy).toEqual({ type: 'OnDelete' });
      expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      const shardSelector = { app: 'vitess', component: 'vttablet', cell: 'test', keyspace: 'test_keyspace', shard: '0' };
      expect(pod.topologySpreadConstraints).toEqual([
        { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: shardSelector } },
        { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: shardSelector } },
      ]);
      expect(sts.spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '15002',
        'prometheus.io/path': '/metrics',
      });
      expect(pod.terminationGracePeriodSeconds).toBe(900);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toEqual({
        runAsUser: 999,
        runAsGroup: 999,
        fsGroup: 999,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const name of ['vttablet', 'mysql']) {
        const c = container(sts, name);
        expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true });
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        expect(c.image).toBe('vitess/lite:v9.0.0');
        expect(c.imagePullPolicy).toBe('IfNotPresent');
        expect(c.resources.limits.cpu).toBeUndefined();
      }
      expect(container(sts, 'vttablet').resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } });
      expect(container(sts, 'mysql').resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } });
    }
  });

  test('a NetworkPolicy admits gRPC and MySQL only from Vitess pods, the web port from anywhere', () => {
    const { objects } = shard({ shard: '-80', uidBase: 200 });
    const policy = findObject(objects, 'NetworkPolicy', 'vttablet-test-keyspace-xx-80-test');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { app: 'vitess', component: 'vttablet', cell: 'test', keyspace: 'test_keyspace', shard: 'xx-80' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          ports: [
            { protocol: 'TCP', port: 16002 },
            { protocol: 'TCP', port: 3306 },
          ],
          from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }],
        },
        { ports: [{ protocol: 'TCP', port: 15002 }] },
      ],
    });
    const without = shard({ networkPolicy: false }).objects;
    expect(without.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name.startsWith('vttablet'))).toEqual([]);
  });

  test('overrides: resources, storage, scheduling, pull secrets and platform-assigned user IDs', () => {
    const { objects } = shard({
      vttabletResources: { requests: { cpu: { value: '2' } as any, memory: { value: '4Gi' } as any }, limits: { memory: { value: '4Gi' } as any } },
      nodeSelector: { 'node.kubernetes.io/pool': 'db' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] } } },
      priorityClassName: 'vitess-tablets',
      imagePullSecrets: ['registry-cred'],
      userIds: UserIds.PLATFORM_ASSIGNED,
    });
    const pod = findObject(objects, 'StatefulSet', 'vttablet-100').spec.template.spec;
    expect(container({ spec: { template: { spec: pod } }, kind: 'StatefulSet', metadata: {} }, 'vttablet').resources).toEqual({
      requests: { cpu: '2', memory: '4Gi' },
      limits: { memory: '4Gi' },
    });
    expect(pod.nodeSelector).toEqual({ 'node.kubernetes.io/pool': 'db' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }]);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key).toBe('disk');
    // The default spread stays beside the given affinity.
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    expect(pod.priorityClassName).toBe('vitess-tablets');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-cred' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });

  test('mysqlConfig: a ConfigMap in the [mysqld] section, read through EXTRA_MY_CNF', () => {
    const { objects } = shard({ mysqlConfig: { innodb_buffer_pool_size: '768M', max_connections: 500 } });
    const configMap = findObject(objects, 'ConfigMap', 'vttablet-test-keyspace-0-test-mycnf');
    expect(configMap.data).toEqual({ 'extra.cnf': '[mysqld]\ninnodb_buffer_pool_size = 768M\nmax_connections = 500\n' });
    const sts = findObject(objects, 'StatefulSet', 'vttablet-103');
    const mysql = container(sts, 'mysql');
    expect(mysql.env).toEqual([{ name: 'EXTRA_MY_CNF', value: '/vt/config/extra/extra.cnf' }]);
    expect(mysql.volumeMounts).toContainEqual({ name: 'mycnf', mountPath: '/vt/config/extra', readOnly: true });
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'mycnf', configMap: { name: 'vttablet-test-keyspace-0-test-mycnf' } });
    expect(container(sts, 'vttablet').volumeMounts.map((m: any) => m.name)).not.toContain('mycnf');
    // Without mysqlConfig: no ConfigMap, no variable.
    const plain = shard().objects;
    expect(plain.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    expect(container(findObject(plain, 'StatefulSet', 'vttablet-100'), 'mysql').env).toBeUndefined();
  });

  test('fails for a mysqlConfig name or value that is not one my.cnf line', () => {
    expect(() => shard({ mysqlConfig: { 'innodb buffer': '1G' } })).toThrow(
      /'mysqlConfig' names must be MySQL option names .*got 'innodb buffer'/,
    );
    expect(() => shard({ mysqlConfig: { max_connections: '100\n[client]' } })).toThrow(
      /'mysqlConfig' value of 'max_connections' must be one non-empty line, got '100\n\[client\]'/,
    );
    expect(() => shard({ mysqlConfig: { sql_mode: '' } })).toThrow(/'mysqlConfig' value of 'sql_mode' must be one non-empty line, got ''/);
  });

  test('mysqldImage: the mysql container runs another image, vttablet keeps the release image', () => {
    const { objects } = shard({ release: VitessRelease.V22_0, mysqldImage: 'registry.example.com/vitess/lite:v22.0.3-mysql84' });
    const sts = findObject(objects, 'StatefulSet', 'vttablet-100');
    expect(container(sts, 'mysql').image).toBe('registry.example.com/vitess/lite:v22.0.3-mysql84');
    expect(container(sts, 'mysql').command).toEqual(['/vt/bin/mysqlctld']);
    expect(container(sts, 'vttablet').image).toBe('vitess/lite:v22.0.3');
    expect(container(findObject(shard().objects, 'StatefulSet', 'vttablet-100'), 'mysql').image).toBe('vitess/lite:v9.0.0');
  });

  test('fails for a mysqldImage that is not an image reference', () => {
    expect(() => shard({ mysqldImage: 'Vitess Lite' })).toThrow(
      "TabletShard: 'mysqldImage' must be an image reference such as vitess/lite:v22.0.3-mysql84, got 'Vitess Lite'",
    );
  });

  test('fails for a vtctld of another release', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const vtctld = new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
    expect(() => new TabletShard(chart, 'Shard', { globalTopology, vtctld, cell: 'test', keyspace: 'ks', shard: '0' })).toThrow(
      "TabletShard: 'vtctld' runs Vitess v22.0.3 but 'release' is v9.0.0",
    );
  });
});

describe.each([
  ['v9.0', VitessRelease.V9_0, 'legacy' as const, 'master'],
  ['v22.0', VitessRelease.V22_0, 'modern' as const, 'primary'],
  ['v24.0', VitessRelease.V24_0, 'v24' as const, 'primary'],
])('a stopping tablet on Vitess %s', (_name, release, reference, primaryType) => {
  function cluster() {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const testCell = new EtcdCell(chart, 'Test', { cell: 'test' });
    const vtctld = new Vtctld(chart, 'Vtctld', { release, globalTopology, cell: 'test' });
    const tablets = new TabletShard(chart, 'Shard', { release, globalTopology, vtctld, cell: 'test', keyspace: 'test_keyspace', shard: '0' });
    testCell.addCellInfoJob(chart, 'Cell', vtctld);
    tablets.initPrimaryJob(chart, 'Init', vtctld);
    const objects = Testing.synth(chart);
    const fake = new FakeCluster();
    // The keyspace as the init Jobs leave it (with a durability policy, which v22's
    // PlannedReparentShard needs).
    fake.update((state) => {
      state.keyspaces.test_keyspace = { durability: 'semi_sync' };
    });
    expectJobsSucceeded(fake.apply(objects));
    const sts = (uid: number) => findObject(objects, 'StatefulSet', `vttablet-${uid}`);
    return { objects, fake, sts };
  }

  test('replicas hand the primary role away before they stop; rdonly tablets have no hook; mysqld waits for vttablet', () => {
    const { objects, fake, sts } = cluster();
    try {
      // GIVEN a shard whose primary is 100
      expect(fake.state.shards['test_keyspace/0'].primary).toBe('test-0000000100');
      // WHEN a replica that is not the primary stops
      const replica = fake.delete([sts(101)]);
      // THEN nothing changes
      expect(replica.map((r) => r.status)).toEqual([0]);
      expect(fake.state.shards['test_keyspace/0'].primary).toBe('test-0000000100');
      // WHEN the primary stops
      const primary = fake.delete([sts(100)]);
      // THEN its hook moved the role to the first other replica that is up, before it stopped
      expect(primary.map((r) => [r.name, r.status, r.stderr])).toEqual([['vttablet-100/vttablet/preStop', 0, '']]);
      expect(primary[0].calls.filter((c) => c.includes('PlannedReparentShard'))).toHaveLength(1);
      expect(fake.state.shards['test_keyspace/0'].primary).toBe('test-0000000102');
      expect(fake.state.tablets['test-0000000102'].type).toBe(primaryType);
      expect(fake.state.tablets['test-0000000100'].type).toBe('replica');
      // rdonly tablets never become primary and have no hook.
      expect(container(sts(103), 'vttablet').lifecycle).toBeUndefined();
      // mysqld stops only once vttablet no longer listens.
      expect(container(sts(103), 'mysql').lifecycle.preStop.exec.command[2]).toContain('/dev/tcp/127.0.0.1/15002');
      expect(checkInvocations(vitessInvocations(objects), reference)).toEqual([]);
    } finally {
      fake.dispose();
    }
  });

  test('a shard that no longer serves its primary is left alone when its tablets stop', () => {
    const { fake, sts } = cluster();
    try {
      // GIVEN a shard resharded away: it no longer serves its primary
      fake.update((state) => {
        state.shards['test_keyspace/0'].isMasterServing = false;
      });
      // WHEN its tablets stop
      const runs = fake.delete([sts(100), sts(101), sts(102)]);
      // THEN no hook reparents it
      expect(runs.map((r) => r.status)).toEqual([0, 0, 0]);
      expect(runs.flatMap((r) => r.calls).filter((c) => c.includes('PlannedReparentShard'))).toEqual([]);
      expect(runs[0].stdout).toContain(`test_keyspace/0 does not serve its ${primaryType}: no hand-off`);
      expect(fake.state.shards['test_keyspace/0'].primary).toBe('test-0000000100');
    } finally {
      fake.dispose();
    }
  });

  test('the hand-off gives up when no other replica can take over, and the pod stops anyway', () => {
    const { fake, sts } = cluster();
    try {
      fake.delete([sts(101), sts(102)]);
      const runs = fake.delete([sts(100)]);
      expect(runs[0].status).toBe(1);
      expect(runs[0].stderr).toContain(`could not hand the ${primaryType} role of test_keyspace/0 away from test-0000000100; stopping anyway`);
      expect(fake.state.tablets['test-0000000100'].up).toBe(false);
    } finally {
      fake.dispose();
    }
  });
});

describe('TabletShard init_db.sql', () => {
  const mysqlArgs = (objects: any[], uid: number): string[] => container(findObject(objects, 'StatefulSet', `vttablet-${uid}`), 'mysql').args;

  test('on Vitess v9.0 mysqlctld runs its built-in init_db.sql: the image has no /vt/config', () => {
    // vitess/lite:v9.0.0 holds only the binaries of `make install` (docker/lite/Dockerfile.mysql57
    // lines 33 and 52, Makefile lines 74-77 at v9.0.0); with no init_db_sql_file mysqlctld runs
    // the copy built into it (go/vt/mysqlctl/mysqld.go lines 671-680 at v9.0.0).
    const { objects } = shard();
    for (const uid of [100, 101, 102, 103, 104]) {
      const args = mysqlArgs(objects, uid);
      expect(args.filter((a) => a.includes('init_db_sql_file'))).toEqual([]);
      expect(args).toEqual([`-tablet_uid=${uid}`, '-mysql_port=3306', '-socket_file=/vt/vtdataroot/mysqlctl.sock', '-logtostderr']);
    }
    expect(VitessRelease.V9_0.imageInitDbSqlPath).toBeUndefined();
  });

  test("on Vitess v22.0 mysqlctld runs the image's /vt/config/init_db.sql", () => {
    // docker/lite/Dockerfile line 67 at v22.0.4 (and v22.0.1) copies config/init_db.sql there.
    const { objects } = shard({ release: VitessRelease.V22_0 });
    for (const uid of [100, 104]) {
      expect(mysqlArgs(objects, uid)).toEqual([
        `--tablet_uid=${uid}`,
        '--mysql_port=3306',
        '--socket_file=/vt/vtdataroot/mysqlctl.sock',
        '--init_db_sql_file=/vt/config/init_db.sql',
        '--logtostderr',
      ]);
    }
    expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
  });

  test.each([
    ['v9.0', VitessRelease.V9_0, 'legacy' as const, '-init_db_sql_file'],
    ['v22.0', VitessRelease.V22_0, 'modern' as const, '--init_db_sql_file'],
    ['v24.0', VitessRelease.V24_0, 'v24' as const, '--init-db-sql-file'],
  ])('on Vitess %s initDbSql comes from a Secret mounted read-only into the mysql container only', (_name, release, reference, initDbFlag) => {
    // GIVEN init SQL in a Secret
    const { objects } = shard({ release, initDbSql: { secretName: 'vitess-init-db', key: 'init-db.sql' } });
    for (const uid of [100, 103]) {
      const sts = findObject(objects, 'StatefulSet', `vttablet-${uid}`);
      // THEN mysqlctld runs the mounted file instead of the release's
      const args = mysqlArgs(objects, uid);
      expect(args.filter((a) => /init[_-]db[_-]sql[_-]file/.test(a))).toEqual([`${initDbFlag}=/vt/secrets/init-db/init_db.sql`]);
      expect(sts.spec.template.spec.volumes).toContainEqual({
        name: 'init-db-sql',
        secret: { secretName: 'vitess-init-db', items: [{ key: 'init-db.sql', path: 'init_db.sql' }] },
      });
      expect(container(sts, 'mysql').volumeMounts).toContainEqual({ name: 'init-db-sql', mountPath: '/vt/secrets/init-db', readOnly: true });
      expect(container(sts, 'vttablet').volumeMounts.map((m: any) => m.name)).not.toContain('init-db-sql');
    }
    // The Secret is the user's: nothing generates it.
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(checkInvocations(vitessInvocations(objects), reference)).toEqual([]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
    // Without initDbSql: no such volume.
    const plain = findObject(shard({ release }).objects, 'StatefulSet', 'vttablet-100');
    expect(plain.spec.template.spec.volumes.map((v: any) => v.name)).not.toContain('init-db-sql');
  });

  test('fails for an initDbSql Secret name or key Kubernetes would reject', () => {
    expect(() => shard({ initDbSql: { secretName: 'Init_DB', key: 'init.sql' } })).toThrow(
      "TabletShard: 'initDbSql.secretName' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got 'Init_DB'",
    );
    expect(() => shard({ initDbSql: { secretName: '', key: 'init.sql' } })).toThrow(/'initDbSql.secretName' must be a DNS-1123 subdomain.*got ''/);
    expect(() => shard({ initDbSql: { secretName: 'init-db', key: 'sql/init.sql' } })).toThrow(
      "TabletShard: 'initDbSql.key' must be a Secret key (1 to 253 letters, digits, '-', '_' and '.', not '.' and not starting with '..'), got 'sql/init.sql'",
    );
    expect(() => shard({ initDbSql: { secretName: 'init-db', key: '' } })).toThrow(/'initDbSql.key' must be a Secret key .*got ''/);
    expect(() => shard({ initDbSql: { secretName: 'init-db', key: '..init.sql' } })).toThrow(/'initDbSql.key' must be a Secret key .*got '\.\.init\.sql'/);
    expect(() => shard({ initDbSql: { secretName: 'init-db', key: '.' } })).toThrow(/'initDbSql.key' must be a Secret key .*got '\.'/);
    expect(() => shard({ initDbSql: { secretName: 'init-db', key: 'k'.repeat(254) } })).toThrow(/'initDbSql.key' must be a Secret key/);
    // Valid edge cases pass.
    expect(() => shard({ initDbSql: { secretName: 'init.db', key: 'Init_DB-1.sql' } })).not.toThrow();
  });
});

describe('TabletShard tablet host names', () => {
  const vttablet = (objects: any[], uid: number) => container(findObject(objects, 'StatefulSet', `vttablet-${uid}`), 'vttablet');
  const POD_NAME = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
  const POD_NAMESPACE = { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } };

  test('on Vitess v22.0 a tablet registers its stable pod DNS name, not its pod IP', () => {
    const { objects } = shard({ release: VitessRelease.V22_0 });
    for (const uid of [100, 101, 102, 103, 104]) {
      const c = vttablet(objects, uid);
      expect(c.args.filter((a: string) => a.startsWith('--tablet_hostname'))).toEqual([
        '--tablet_hostname=$(POD_NAME).vttablet-test-keyspace-0-test.$(POD_NAMESPACE).svc.cluster.local',
      ]);
      expect(c.env).toEqual([POD_NAME, POD_NAMESPACE]);
      expect(JSON.stringify(c)).not.toContain('POD_IP');
      // The pod is `vttablet-<uid>-0` of a StatefulSet whose serviceName is the headless Service.
      expect(findObject(objects, 'StatefulSet', `vttablet-${uid}`).spec.serviceName).toBe('vttablet-test-keyspace-0-test');
    }
    expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
  });

  test('on Vitess v22.0 a custom clusterDomain', () => {
    const { objects } = shard({ release: VitessRelease.V22_0, shard: '-80', uidBase: 200, clusterDomain: 'k8s.example.internal' });
    expect(vttablet(objects, 200).args).toContain(
      '--tablet_hostname=$(POD_NAME).vttablet-test-keyspace-xx-80-test.$(POD_NAMESPACE).svc.k8s.example.internal',
    );
  });

  test('on Vitess v9.0 a tablet registers <pod>.<Service>: MySQL 5.7 takes source host names of at most 60 characters', () => {
    // The full name would be 70 characters in the namespace `default`
    // ('vttablet-100-0.vttablet-test-keyspace-0-test.default.svc.cluster.local'), more than the
    // image's MySQL 5.7.31 takes as a replication source host; replicas replicate from this name
    // (go/vt/vttablet/tabletmanager/tm_init.go lines 514-528 and rpc_replication.go line 568 at v9.0.0).
    expect('vttablet-100-0.vttablet-test-keyspace-0-test.default.svc.cluster.local').toHaveLength(70);
    const { objects } = shard({ clusterDomain: 'k8s.example.internal' });
    for (const uid of [100, 101, 102, 103, 104]) {
      const c = vttablet(objects, uid);
      expect(c.args.filter((a: string) => a.startsWith('-tablet_hostname'))).toEqual(['-tablet_hostname=$(POD_NAME).vttablet-test-keyspace-0-test']);
      expect(c.env).toEqual([POD_NAME]);
      expect(JSON.stringify(c)).not.toContain('POD_IP');
    }
    expect(VitessRelease.V9_0.mysqlHostnameMaxLength).toBe(60);
    expect(checkInvocations(vitessInvocations(objects), 'legacy')).toEqual([]);
  });

  test('the headless Service publishes not-ready addresses, so a tablet name resolves before the tablet is ready', () => {
    for (const release of [VitessRelease.V9_0, VitessRelease.V22_0]) {
      const service = findObject(shard({ release }).objects, 'Service', 'vttablet-test-keyspace-0-test');
      expect(service.spec.clusterIP).toBe('None');
      expect(service.spec.publishNotReadyAddresses).toBe(true);
      expect(service.spec.selector).toEqual({ app: 'vitess', component: 'vttablet', cell: 'test', keyspace: 'test_keyspace', shard: '0' });
    }
  });

  test('fails for a clusterDomain that is not a DNS name, on either release', () => {
    for (const release of [VitessRelease.V9_0, VitessRelease.V22_0]) {
      expect(() => shard({ release, clusterDomain: 'Cluster.Local' })).toThrow(
        "TabletShard: 'clusterDomain' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got 'Cluster.Local'",
      );
      expect(() => shard({ release, clusterDomain: 'cluster..local' })).toThrow(/'clusterDomain' must be a DNS-1123 subdomain.*got 'cluster\.\.local'/);
      expect(() => shard({ release, clusterDomain: 'cluster.local.' })).toThrow(/'clusterDomain' must be a DNS-1123 subdomain.*got 'cluster\.local\.'/);
      expect(() => shard({ release, clusterDomain: '' })).toThrow(/'clusterDomain' must be a DNS-1123 subdomain.*got ''/);
    }
  });

  test('fails for a clusterDomain that makes a tablet name longer than a DNS name can be', () => {
    // 140 characters fit (113 + 140 = 253), 141 do not.
    const fits = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(12)}`;
    expect(fits).toHaveLength(140);
    expect(() => shard({ release: VitessRelease.V22_0, clusterDomain: fits })).not.toThrow();
    const clusterDomain = `${fits}c`;
    expect(() => shard({ release: VitessRelease.V22_0, clusterDomain })).toThrow(
      `TabletShard: 'clusterDomain' '${clusterDomain}' is too long: the tablet host name ` +
        `'vttablet-100-0.vttablet-test-keyspace-0-test.<namespace>.svc.${clusterDomain}' must fit in 253 characters ` +
        'with a namespace of up to 63, and would have up to 254',
    );
  });

  test('fails on Vitess v9.0 for a tablet name longer than its MySQL takes', () => {
    // 60 characters fit.
    const { objects } = shard({ keyspace: 'customer_orders_archive_12345' });
    expect(vttablet(objects, 100).args).toContain('-tablet_hostname=$(POD_NAME).vttablet-customer-orders-archive-12345-0-test');
    expect('vttablet-100-0.vttablet-customer-orders-archive-12345-0-test').toHaveLength(60);
    // 62 do not.
    expect(() => shard({ keyspace: 'customer_orders_archive_2021_eu' })).toThrow(
      "TabletShard: the tablet host name 'vttablet-100-0.vttablet-customer-orders-archive-2021-eu-0-test' has 62 characters, " +
        'but the MySQL of Vitess v9.0.0 (vitess/lite:v9.0.0) takes replication source host names of at most 60: ' +
        "shorten the keyspace, shard or cell (they make the Service name 'vttablet-customer-orders-archive-2021-eu-0-test')",
    );
    // On Vitess v22.0 the same shard registers its full name (MySQL 8.0.40 takes 255 characters).
    expect(vttablet(shard({ release: VitessRelease.V22_0, keyspace: 'customer_orders_archive_2021_eu' }).objects, 100).args).toContain(
      '--tablet_hostname=$(POD_NAME).vttablet-customer-orders-archive-2021-eu-0-test.$(POD_NAMESPACE).svc.cluster.local',
    );
  });
});
