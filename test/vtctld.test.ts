import { Testing } from 'cdk8s';
import { BackupStorage, EtcdCell, VitessRelease, Vtctld } from '../lib';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { container, findObject, testChart } from './util/synth';

describe('Vtctld', () => {
  test('a Deployment and a Service vtctld on 15000 and 15999 with topology and backup flags', () => {
    // GIVEN
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    // WHEN
    const vtctld = new Vtctld(chart, 'Vtctld', {
      globalTopology,
      cell: 'test',
      backup: BackupStorage.nfs({ server: '10.0.0.5', path: '/exports/vitess' }),
    });
    // THEN
    expect(vtctld.grpcAddress).toBe('vtctld:15999');
    expect(vtctld.webAddress).toBe('vtctld:15000');
    const objects = Testing.synth(chart);
    const service = findObject(objects, 'Service', 'vtctld');
    expect(service.spec.ports).toEqual([
      { name: 'web', port: 15000, targetPort: 15000 },
      { name: 'grpc', port: 15999, targetPort: 15999 },
    ]);
    const deployment = findObject(objects, 'Deployment', 'vtctld');
    expect(deployment.spec.replicas).toBe(1);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    const c = container(deployment, 'vtctld');
    expect(c.image).toBe('vitess/lite:v9.0.0');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.command).toEqual(['/vt/bin/vtctld']);
    expect(c.args).toEqual([
      '-topo_implementation=etcd2',
      '-topo_global_server_address=http://etcd-global-client:2379',
      '-topo_global_root=/global',
      '-cell=test',
      '-port=15000',
      '-grpc_port=15999',
      '-service_map=grpc-vtctl',
      '-backup_storage_implementation=file',
      '-file_backup_storage_root=/vt/backups',
      '-logtostderr',
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'backups', mountPath: '/vt/backups' }]);
    expect(deployment.spec.template.spec.volumes).toEqual([{ name: 'backups', nfs: { server: '10.0.0.5', path: '/exports/vitess' } }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/debug/health', port: 15000 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/debug/vars', port: 15000 });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsUser: 999, fsGroup: 999, runAsNonRoot: true });
  });

  test('fails for a bad name or replica count', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    expect(() => new Vtctld(chart, 'A', { globalTopology, cell: 'test', name: 'VtCtld' })).toThrow(/Vtctld: 'name' must be a DNS-1123 label.*got 'VtCtld'/);
    expect(() => new Vtctld(chart, 'B', { globalTopology, cell: 'test', replicas: 0 })).toThrow(/Vtctld: 'replicas' must be a whole number of at least 1, got 0/);
    expect(() => new Vtctld(chart, 'C', { globalTopology, cell: 'te_st' })).toThrow(/Vtctld: 'cell' must be/);
  });
});

test('on Vitess v22.0: pflag spelling, vtctld\'s own gRPC service for vtctldclient, flags known to v22.0.3', () => {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
  const deployment = findObject(Testing.synth(chart), 'Deployment', 'vtctld');
  const c = container(deployment, 'vtctld');
  expect(c.image).toBe('vitess/lite:v22.0.3');
  expect(c.args).toEqual([
    '--topo_implementation=etcd2',
    '--topo_global_server_address=etcd-global-client:2379',
    '--topo_global_root=/vitess/global',
    '--cell=test',
    '--port=15000',
    '--grpc_port=15999',
    '--service_map=grpc-vtctl,grpc-vtctld',
    '--logtostderr',
  ]);
  expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
});
