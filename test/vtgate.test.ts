import { Testing } from 'cdk8s';
import { EtcdCell, VitessRelease, Vtgate, VtgateServiceType } from '../lib';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { container, findObject, testChart } from './util/synth';

describe('Vtgate', () => {
  test('a Deployment of 3 and a Service vtgate-<cell> on 15001, 15991 and 3306', () => {
    // GIVEN
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    // WHEN
    const vtgate = new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test' });
    // THEN
    expect(vtgate.mysqlAddress).toBe('vtgate-test:3306');
    const objects = Testing.synth(chart);
    const service = findObject(objects, 'Service', 'vtgate-test');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([
      { name: 'web', port: 15001, targetPort: 15001 },
      { name: 'grpc', port: 15991, targetPort: 15991 },
      { name: 'mysql', port: 3306, targetPort: 3306 },
    ]);
    const deployment = findObject(objects, 'Deployment', 'vtgate-test');
    expect(deployment.spec.replicas).toBe(3);
    const c = container(deployment, 'vtgate');
    expect(c.args).toEqual([
      '-topo_implementation=etcd2',
      '-topo_global_server_address=http://etcd-global-client:2379',
      '-topo_global_root=/global',
      '-cell=test',
      '-cells_to_watch=test',
      '-tablet_types_to_wait=MASTER,REPLICA',
      '-gateway_implementation=discoverygateway',
      '-port=15001',
      '-grpc_port=15991',
      '-mysql_server_port=3306',
      '-service_map=grpc-vtgateservice',
      '-mysql_auth_server_impl=static',
      '-mysql_auth_server_static_file=/vt/secrets/mysql-auth/users.json',
      '-logtostderr',
    ]);
    expect(c.args.join(' ')).not.toMatch(/password/i);
    expect(deployment.spec.template.spec.volumes).toEqual([
      { name: 'mysql-auth', secret: { secretName: 'vtgate-test-mysql-auth', items: [{ key: 'users.json', path: 'users.json' }] } },
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/debug/health', port: 15001 });
    expect(findObject(objects, 'PodDisruptionBudget', 'vtgate-test').spec.maxUnavailable).toBe(1);
  });

  test('watches more cells and takes another Service type and Secret', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    new Vtgate(chart, 'Vtgate', {
      globalTopology,
      cell: 'test',
      cellsToWatch: ['test', 'test2'],
      serviceType: VtgateServiceType.LOAD_BALANCER,
      mysqlAuthSecretName: 'my-users',
      replicas: 2,
    });
    const objects = Testing.synth(chart);
    expect(findObject(objects, 'Service', 'vtgate-test').spec.type).toBe('LoadBalancer');
    const deployment = findObject(objects, 'Deployment', 'vtgate-test');
    expect(deployment.spec.replicas).toBe(2);
    expect(container(deployment, 'vtgate').args).toContain('-cells_to_watch=test,test2');
    expect(deployment.spec.template.spec.volumes[0].secret.secretName).toBe('my-users');
  });

  test('fails when cellsToWatch leaves out its own cell', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    expect(() => new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', cellsToWatch: ['other'] })).toThrow(
      /Vtgate: 'cellsToWatch' must include the vtgate's own cell 'test', got \[other\]/,
    );
  });

  test('fails for a bad replica count', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    expect(() => new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', replicas: 1.5 })).toThrow(
      /Vtgate: 'replicas' must be a whole number of at least 1, got 1.5/,
    );
  });
});

test('on Vitess v22.0: PRIMARY,REPLICA, no gateway flag, flags known to v22.0.3', () => {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new Vtgate(chart, 'Vtgate', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
  const deployment = findObject(Testing.synth(chart), 'Deployment', 'vtgate-test');
  const c = container(deployment, 'vtgate');
  expect(c.args).toContain('--cell=test');
  expect(c.args).toContain('--cells_to_watch=test');
  expect(c.args).toContain('--tablet_types_to_wait=PRIMARY,REPLICA');
  expect(c.args.filter((a: string) => a.includes('gateway_implementation'))).toEqual([]);
  expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
});
