import { FlagStyle, VitessRelease, VtctlClient } from '../lib';
import { loadReference } from './util/vitess-reference';

describe('VitessRelease', () => {
  const v9 = VitessRelease.V9_0;

  test('v9.0: the guide release', () => {
    expect(v9.image).toBe('vitess/lite:v9.0.0');
    expect(v9.majorVersion).toBe(9);
    expect(v9.flagStyle).toBe(FlagStyle.GO_FLAG);
    expect(v9.vtctlClient).toBe(VtctlClient.VTCTLCLIENT);
    expect(v9.hasVtworker).toBe(true);
    expect(v9.topoGlobalRoot).toBe('/global');
    expect(v9.cellRoot('test')).toBe('/test');
    expect(v9.topoServerAddress('etcd-test-client:2379')).toBe('http://etcd-test-client:2379');
    expect(v9.primaryTypeName).toBe('master');
  });

  test('renders flags in the Go flag style', () => {
    expect(v9.flag('force')).toBe('-force');
    expect(v9.flag('port', 15000)).toBe('-port=15000');
    expect(v9.flag('tablet-path', 'test-0000000100')).toBe('-tablet-path=test-0000000100');
  });

  test('every vtctl and vtworker command of the v9.0 profile exists in Vitess v9.0.0', () => {
    const reference = loadReference('legacy');
    expect(reference.release).toMatch(/^v9\.0\.0/);
    for (const command of v9.vtctlCommands) {
      expect(Object.keys(reference.vtctl.commands)).toContain(command);
    }
    for (const command of v9.vtworkerCommands) {
      expect(Object.keys(reference.vtworker.commands)).toContain(command);
    }
  });

  test('fails for a command the release does not have', () => {
    expect(() => v9.requireVtctlCommand('PlannedReparentShard', 'Test')).toThrow(
      /Test: Vitess v9.0.0 has no vtctlclient command 'PlannedReparentShard'; available: AddCellInfo/,
    );
    expect(() => v9.requireVtworkerCommand('VerticalSplitClone', 'Test')).toThrow(/has no vtworker command 'VerticalSplitClone'/);
  });

  test('fails for a bad flag name, version or image', () => {
    expect(() => v9.flag('-port', 1)).toThrow(/invalid flag name '-port'/);
    const props = {
      version: 'v9.0.0',
      image: 'vitess/lite:v9.0.0',
      flagStyle: FlagStyle.GO_FLAG,
      topoGlobalRoot: '/global',
      topoCellRootPrefix: '/',
      topoAddressScheme: true,
      primaryTypeName: 'master',
      vtctlClient: VtctlClient.VTCTLCLIENT,
      vtctlCommands: [],
      vtworkerCommands: [],
      v3ReshardingMode: true,
      tabletSemiSyncFlag: true,
      vtgateGatewayFlag: true,
    };
    expect(() => new VitessRelease({ ...props, version: '9.0' })).toThrow(/'version' must look like v<major>.<minor>.<patch>, got '9.0'/);
    expect(() => new VitessRelease({ ...props, image: 'vitess/lite' })).toThrow(/'image' must be a pinned image reference \(name:tag\), got 'vitess\/lite'/);
    const noWorker = new VitessRelease(props);
    expect(() => noWorker.requireVtworkerCommand('SplitClone', 'Test')).toThrow(/has no vtworker \(removed in v15\)/);
  });
});
