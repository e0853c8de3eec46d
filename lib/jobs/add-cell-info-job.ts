import { Construct } from 'constructs';
import type { ITopologyServer, IVtctld } from '../interfaces';
import { validateCellName } from '../internal/names';
import { JobCondition } from './job-condition';
import { VtctlJob } from './vtctl-job';

/**
 * Props of {@link AddCellInfoJob}.
 */
export interface AddCellInfoJobProps {
  /** The vtctld that runs `AddCellInfo`; the Job runs its release's image and client. */
  readonly vtctld: IVtctld;
  /**
   * The topology server of the cell to register: an {@link EtcdCell} of the cell, or
   * {@link TopologyServer.fromAddress} for an etcd cluster that the library does not run. Its cell
   * must not be `global`.
   */
  readonly topology: ITopologyServer;
}

/**
 * A Job `vtctl-addcellinfo-<cell>` that registers a cell in the global topology with `AddCellInfo`
 * (the cell's root and its topology server's client address, as the release spells them) once
 * vtctld answers, and does nothing when the cell is already registered. Tablets of the cell cannot
 * start until it has run. {@link EtcdCell.addCellInfoJob} creates the same Job for an EtcdCell.
 */
export class AddCellInfoJob extends VtctlJob {
  /** The cell it registers. */
  public readonly cell: string;

  public constructor(scope: Construct, id: string, props: AddCellInfoJobProps) {
    const { vtctld, topology } = props;
    validateCellName('AddCellInfoJob', 'topology.cell', topology.cell);
    if (topology.cell === 'global') {
      throw new Error(
        "AddCellInfoJob: 'topology' must be the topology server of a cell, got the 'global' topology, which is not a cell and is not registered",
      );
    }
    const release = vtctld.release;
    super(scope, id, {
      vtctld,
      jobName: `vtctl-addcellinfo-${topology.cell}`,
      waitFor: [JobCondition.vtctldReachable()],
      skipIf: JobCondition.cellRegistered(topology.cell),
      commands: [
        [
          'AddCellInfo',
          release.commandFlag('root', release.cellRoot(topology.cell)),
          release.commandFlag('server_address', release.topoServerAddress(topology.clientAddress)),
          topology.cell,
        ],
      ],
    });
    this.cell = topology.cell;
  }
}
