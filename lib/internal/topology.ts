// The global topology flags every Vitess server takes. Not part of the public API.
import type { ITopologyServer } from '../interfaces';
import type { VitessRelease } from '../release';

/** `-topo_implementation etcd2`, the global server address and the global root. */
export function topologyFlags(release: VitessRelease, globalTopology: ITopologyServer): string[] {
  return [
    release.flag('topo_implementation', 'etcd2'),
    release.flag('topo_global_server_address', release.topoServerAddress(globalTopology.clientAddress)),
    release.flag('topo_global_root', release.topoGlobalRoot),
  ];
}
