import { Testing } from 'cdk8s';
import { EtcdCell, VitessRelease } from '../lib';
import { container, findObject, testChart } from './util/synth';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';

describe('EtcdCell', () => {
  test('a cell is a StatefulSet of 3 with peer and client Services, PVCs and a PDB', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    // THEN
    const objects = Testing.synth(chart);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/etcd-test',
      'Service/etcd-test-client',
      'StatefulSet/etcd-test',
      'PodDisruptionBudget/etcd-test',
    ]);
    expect(etcd.clientAddress).toBe('etcd-test-client:2379');
    const peer = findObject(objects, 'Service', 'etcd-test');
    expect(peer.spec.clusterIP).toBe('None');
    expect(peer.spec.publishNotReadyAddresses).toBe(true);
    expect(peer.spec.ports.map((p: any) => p.port)).toEqual([2380, 2379]);
    const client = findObject(objects, 'Service', 'etcd-test-client');
    expect(client.spec.ports).toEqual([{ name: 'client', port: 2379, targetPort: 2379 }]);
    expect(client.spec.selector).toEqual({ app: 'vitess', component: 'etcd', cell: 'test' });

    const sts = findObject(objects, 'StatefulSet', 'etcd-test');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('etcd-test');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    const c = container(sts, 'etcd');
    expect(c.image).toBe('quay.io/coreos/etcd:v3.5.17');
    expect(c.args).toContain(
      '--initial-cluster=etcd-test-0=http://etcd-test-0.etcd-test:2380,etcd-test-1=http://etcd-test-1.etcd-test:2380,etcd-test-2=http://etcd-test-2.etcd-test:2380',
    );
    expect(c.args).toContain('--initial-advertise-peer-urls=http://$(POD_NAME).etcd-test:2380');
    expect(c.args).toContain('--advertise-client-urls=http://$(POD_NAME).etcd-test:2379');
    expect(c.args).toContain('--initial-cluster-state=new');
    expect(c.args).toContain('--data-dir=/var/lib/etcd/data');
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/etcd' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 2379 });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } });

    const pdb = findObject(objects, 'PodDisruptionBudget', 'etcd-test');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
  });

  test('the global topology has the same shape', () => {
    const chart = testChart();
    new EtcdCell(chart, 'Etcd', { cell: 'global', replicas: 5, storageSize: '2Gi', storageClassName: 'fast' });
    const sts = findObject(Testing.synth(chart), 'StatefulSet', 'etcd-global');
    expect(sts.spec.replicas).toBe(5);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '2Gi' } } });
    expect(container(sts, 'etcd').args).toContain('--initial-cluster-token=etcd-global');
  });

  test('registers a cell with AddCellInfo', () => {
    const chart = testChart();
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    const job = etcd.addCellInfoJob(chart, 'Register', {
      release: VitessRelease.V9_0,
      grpcAddress: 'vtctld:15999',
    });
    expect(job.jobName).toBe('vtctl-addcellinfo-test');
    expect(job.commandLines).toEqual([
      ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'AddCellInfo', '-root=/test', '-server_address=http://etcd-test-client:2379', 'test'],
    ]);
  });

  test('fails to register the global topology as a cell', () => {
    const chart = testChart();
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'global' });
    expect(() => etcd.addCellInfoJob(chart, 'Register', { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' })).toThrow(
      /the 'global' topology is not a cell/,
    );
  });

  test('fails for a cell name with a dash', () => {
    expect(() => new EtcdCell(testChart(), 'Etcd', { cell: 'us-east' })).toThrow(
      /EtcdCell: 'cell' must be 1 to 40 lowercase letters or digits .*got 'us-east'/,
    );
  });

  test('fails for an even member count', () => {
    expect(() => new EtcdCell(testChart(), 'Etcd', { cell: 'test', replicas: 4 })).toThrow(
      /EtcdCell: 'replicas' must be an odd whole number from 1 to 9, got 4/,
    );
  });
});

test('on Vitess v22.0: AddCellInfo through vtctldclient with dashed flags, the /vitess root and a plain address', () => {
  const chart = testChart();
  const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
  etcd.addCellInfoJob(chart, 'AddCellInfo', { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' });
  const job = findObject(Testing.synth(chart), 'Job', 'vtctl-addcellinfo-test');
  const invocations = vitessInvocations([job]);
  expect(invocations.map((i) => [i.binary, ...i.args])).toEqual([
    ['vtctldclient', '--server=vtctld:15999', 'GetCellInfoNames'],
    ['vtctldclient', '--server=vtctld:15999', 'GetCellInfoNames'],
    ['vtctldclient', '--server=vtctld:15999', 'AddCellInfo', '--root=/vitess/test', '--server-address=etcd-test-client:2379', 'test'],
  ]);
  expect(checkInvocations(invocations, 'modern')).toEqual([]);
});
