import { Chart, Testing } from 'cdk8s';
import {
  AddCellInfoJob,
  EtcdCell,
  ITopologyServer,
  TabletShard,
  TopologyServer,
  VitessRelease,
  Vtctld,
  Vtgate,
  Vtorc,
  VtworkerJob,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { container, findObject, testChart } from './util/synth';

/** `text` as a literal in a regular expression. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** vtctld, vtgate and a shard of cell `test` on `release` that reach the global topology through `globalTopology`. */
function components(chart: Chart, release: VitessRelease, globalTopology: ITopologyServer) {
  const vtctld = new Vtctld(chart, 'Vtctld', { release, globalTopology, cell: 'test' });
  new Vtgate(chart, 'Vtgate', { release, globalTopology, cell: 'test' });
  new TabletShard(chart, 'Shard', { release, globalTopology, vtctld, cell: 'test', keyspace: 'ks', shard: '0' });
  return vtctld;
}

/** The synthesized objects of `components`, without etcd's. */
function vitessObjects(release: VitessRelease, globalTopology: (chart: Chart) => ITopologyServer): any[] {
  const chart = testChart();
  components(chart, release, globalTopology(chart));
  return Testing.synth(chart).filter((o) => !o.metadata.name.startsWith('etcd-'));
}

/** The `topo_global_server_address` flag of the vtctld, vtgate and vttablet containers. */
function globalAddressFlags(objects: any[]): string[] {
  return [
    container(findObject(objects, 'Deployment', 'vtctld'), 'vtctld'),
    container(findObject(objects, 'Deployment', 'vtgate-test'), 'vtgate'),
    container(findObject(objects, 'StatefulSet', 'vttablet-100'), 'vttablet'),
  ].map((c) => c.args.find((arg: string) => /^--?topo[_-]global[_-]server[_-]address=/.test(arg)));
}

describe('TopologyServer.fromAddress', () => {
  test.each([VitessRelease.V9_0, VitessRelease.V22_0, VitessRelease.V24_0].map((release) => [release.version, release] as const))(
    'on Vitess %s, the address of the global EtcdCell gives vtctld, vtgate and vttablet exactly what the EtcdCell gives them',
    (_version, release) => {
      // GIVEN
      const withEtcdCell = vitessObjects(release, (chart) => new EtcdCell(chart, 'Global', { cell: 'global' }));

      // WHEN
      const withAddress = vitessObjects(release, () => TopologyServer.fromAddress('global', 'etcd-global-client:2379'));

      // THEN
      expect(withAddress).toEqual(withEtcdCell);
      expect(withAddress.length).toBeGreaterThan(5);
    },
  );

  test('an external etcd: each host of the list in the flags, with the scheme on each where the release wants one', () => {
    // GIVEN
    const address = 'etcd.vitess-topo.svc:2379,10.0.0.5:2379,[fd00::1]:2379';

    // WHEN
    const v9 = globalAddressFlags(vitessObjects(VitessRelease.V9_0, () => TopologyServer.fromAddress('global', address)));
    const v22 = globalAddressFlags(vitessObjects(VitessRelease.V22_0, () => TopologyServer.fromAddress('global', address)));
    const v24 = globalAddressFlags(vitessObjects(VitessRelease.V24_0, () => TopologyServer.fromAddress('global', address)));

    // THEN
    expect(v9).toEqual(
      Array(3).fill('-topo_global_server_address=http://etcd.vitess-topo.svc:2379,http://10.0.0.5:2379,http://[fd00::1]:2379'),
    );
    expect(v22).toEqual(Array(3).fill(`--topo_global_server_address=${address}`));
    expect(v24).toEqual(Array(3).fill(`--topo-global-server-address=${address}`));
  });

  test('Vtorc and VtworkerJob take it as their global topology', () => {
    // GIVEN
    const chart = testChart();
    const globalTopology = TopologyServer.fromAddress('global', 'etcd.topo:2379');
    const vtctld = new Vtctld(chart, 'Vtctld', { release: VitessRelease.V9_0, globalTopology, cell: 'test' });

    // WHEN
    new Vtorc(chart, 'Vtorc', { release: VitessRelease.V22_0, globalTopology });
    const worker = new VtworkerJob(chart, 'Worker', { vtctld, globalTopology, cell: 'test', command: 'SplitClone', keyspace: 'ks', shards: ['0'] });

    // THEN
    const vtorc = container(findObject(Testing.synth(chart), 'Deployment', 'vtorc'), 'vtorc');
    expect(vtorc.args).toContain('--topo_global_server_address=etcd.topo:2379');
    expect(worker.commandLines[0]).toContain('-topo_global_server_address=http://etcd.topo:2379');
  });

  test('keeps the cell and the address as given', () => {
    // WHEN
    const server = TopologyServer.fromAddress('test', 'ETCD-A.example.com:2379,etcd-b:32379');

    // THEN
    expect(server).toMatchObject({ cell: 'test', clientAddress: 'ETCD-A.example.com:2379,etcd-b:32379' });
  });

  test('an EtcdCell is an ITopologyServer of its cell and client address', () => {
    // WHEN
    const etcd: ITopologyServer = new EtcdCell(testChart(), 'Etcd', { cell: 'test' });

    // THEN
    expect({ cell: etcd.cell, clientAddress: etcd.clientAddress }).toEqual({ cell: 'test', clientAddress: 'etcd-test-client:2379' });
  });

  test.each(['us-east', '', 'Test', 'a'.repeat(41)])('fails for the cell %p', (cell) => {
    expect(() => TopologyServer.fromAddress(cell, 'etcd:2379')).toThrow(
      new RegExp(`^TopologyServer\\.fromAddress: 'cell' must be 1 to 40 lowercase letters or digits .*got '${cell}'$`),
    );
  });

  test.each([
    ['', ''],
    ['etcd-global-client', "'etcd-global-client' is not host:port"],
    ['http://etcd-global-client:2379', "'http://etcd-global-client:2379' has a scheme"],
    ['etcd:0', "'etcd:0' has the port '0', not a whole number from 1 to 65535"],
    ['etcd:65536', "'etcd:65536' has the port '65536', not a whole number from 1 to 65535"],
    ['etcd:02379', "'etcd:02379' has the port '02379', not a whole number from 1 to 65535"],
    ['etcd:', "'etcd:' is not host:port"],
    [':2379', "'' is not a DNS name"],
    ['etcd-a:2379,', 'an empty entry in the list'],
    ['etcd-a:2379, etcd-b:2379', "' etcd-b' is not a DNS name"],
    ['fd00::1:2379', "'fd00::1:2379' is not host:port"],
    ['[fd00::zz]:2379', "'[fd00::zz]' is not an IPv6 address in brackets"],
    ['999.0.0.1:2379', "'999.0.0.1' is not an IPv4 address"],
    ['-etcd:2379', "'-etcd' is not a DNS name"],
    ['etcd_global:2379', "'etcd_global' is not a DNS name"],
  ])('fails for the address %p', (address, problem) => {
    // THEN: the message names the prop, the value, what is allowed and what is wrong
    let message = '';
    try {
      TopologyServer.fromAddress('global', address);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`TopologyServer.fromAddress: 'address' must be host:port or a comma-separated list of host:port`);
    expect(message).toContain(`got '${address}'`);
    expect(message).toMatch(problem === '' ? /got ''$/ : new RegExp(`got '${literal(address)}': ${literal(problem)}`));
  });
});

describe('AddCellInfoJob', () => {
  test('for an EtcdCell it is the Job of EtcdCell.addCellInfoJob', () => {
    // GIVEN
    const viaEtcdCell = testChart();
    new EtcdCell(viaEtcdCell, 'Etcd', { cell: 'test' }).addCellInfoJob(viaEtcdCell, 'AddCellInfo', {
      release: VitessRelease.V9_0,
      grpcAddress: 'vtctld:15999',
    });
    const direct = testChart();
    const etcd = new EtcdCell(direct, 'Etcd', { cell: 'test' });

    // WHEN
    new AddCellInfoJob(direct, 'AddCellInfo', { vtctld: { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' }, topology: etcd });

    // THEN
    expect(Testing.synth(direct)).toEqual(Testing.synth(viaEtcdCell));
  });

  test('registers a cell whose etcd the library does not run, with the address as the release spells it', () => {
    // GIVEN
    const chart = testChart();
    const topology = TopologyServer.fromAddress('test', 'etcd-a.topo:2379,etcd-b.topo:2379');

    // WHEN
    const v9 = new AddCellInfoJob(chart, 'V9', { vtctld: { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' }, topology });
    const v22 = new AddCellInfoJob(testChart(), 'V22', { vtctld: { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' }, topology });

    // THEN
    expect(v9.cell).toBe('test');
    expect(v9.jobName).toBe('vtctl-addcellinfo-test');
    expect(v9.commandLines).toEqual([
      [
        '/vt/bin/vtctlclient',
        '-server=vtctld:15999',
        'AddCellInfo',
        '-root=/test',
        '-server_address=http://etcd-a.topo:2379,http://etcd-b.topo:2379',
        'test',
      ],
    ]);
    expect(v22.commandLines).toEqual([
      ['/vt/bin/vtctldclient', '--server=vtctld:15999', 'AddCellInfo', '--root=/vitess/test', '--server-address=etcd-a.topo:2379,etcd-b.topo:2379', 'test'],
    ]);
    const job = findObject(Testing.synth(chart), 'Job', 'vtctl-addcellinfo-test');
    expect(checkInvocations(vitessInvocations([job]), 'legacy')).toEqual([]);
  });

  test('a cell kept in the global etcd under its own root', () => {
    // GIVEN
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const vtctld = new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });

    // WHEN
    const job = new AddCellInfoJob(chart, 'AddCellInfo', { vtctld, topology: TopologyServer.fromAddress('test', globalTopology.clientAddress) });

    // THEN
    expect(job.commandLines[0].slice(2)).toEqual(['AddCellInfo', '--root=/vitess/test', '--server-address=etcd-global-client:2379', 'test']);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(Testing.synth(chart), version)).toEqual([]);
    }
  });

  test('fails for the global topology', () => {
    expect(
      () =>
        new AddCellInfoJob(testChart(), 'AddCellInfo', {
          vtctld: { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' },
          topology: TopologyServer.fromAddress('global', 'etcd:2379'),
        }),
    ).toThrow(/^AddCellInfoJob: 'topology' must be the topology server of a cell, got the 'global' topology/);
  });

  test('fails for a topology whose cell is not a cell name', () => {
    expect(
      () =>
        new AddCellInfoJob(testChart(), 'AddCellInfo', {
          vtctld: { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' },
          topology: { cell: 'us-east', clientAddress: 'etcd:2379' },
        }),
    ).toThrow(/^AddCellInfoJob: 'topology\.cell' must be 1 to 40 lowercase letters or digits .*got 'us-east'$/);
  });
});
