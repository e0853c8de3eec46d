import { EtcdCell, VitessRelease } from '../lib';
import { topologyFlags } from '../lib/internal/topology';
import { testChart } from './util/synth';

test('the global topology flags of the guide release', () => {
  const globalTopology = new EtcdCell(testChart(), 'Global', { cell: 'global' });
  expect(topologyFlags(VitessRelease.V9_0, globalTopology)).toEqual([
    '-topo_implementation=etcd2',
    '-topo_global_server_address=http://etcd-global-client:2379',
    '-topo_global_root=/global',
  ]);
});
