import { FlagStyle, VitessRelease, VtctlClient } from '../../lib';

/** A release shaped like Vitess v15 (vtworker removed), for tests of what needs vtworker. */
export function releaseWithoutVtworker(): VitessRelease {
  return new VitessRelease({
    version: 'v15.0.0',
    image: 'vitess/lite:v15.0.0',
    flagStyle: FlagStyle.PFLAG,
    topoGlobalRoot: '/vitess/global',
    topoCellRootPrefix: '/vitess/',
    topoAddressScheme: false,
    primaryTypeName: 'primary',
    vtctlClient: VtctlClient.VTCTLDCLIENT,
    vtctlCommands: ['GetCellInfoNames'],
    vtworkerCommands: [],
    v3ReshardingMode: false,
    tabletSemiSyncFlag: false,
    vtgateGatewayFlag: false,
  });
}
