import { FlagStyle, UNDERSCORE_FLAG_NAMES, VitessRelease, VtctlClient } from '../lib';
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
    const props = releaseProps();
    expect(() => new VitessRelease({ ...props, version: '9.0' })).toThrow(/'version' must look like v<major>.<minor>.<patch>, got '9.0'/);
    expect(() => new VitessRelease({ ...props, image: 'vitess/lite' })).toThrow(/'image' must be a pinned image reference \(name:tag\), got 'vitess\/lite'/);
    const noWorker = new VitessRelease(props);
    expect(() => noWorker.requireVtworkerCommand('SplitClone', 'Test')).toThrow(/has no vtworker \(removed in v15\)/);
  });

  test('what the v9.0 image holds: no init_db.sql, MySQL 5.7 with host names of at most 60 characters', () => {
    // docker/lite/Dockerfile.mysql57 lines 33 and 52 and Makefile lines 74-77 at v9.0.0: only the
    // binaries are copied to /vt. install_dependencies.sh lines 64-65: MySQL 5.7.31.
    expect(v9.imageInitDbSqlPath).toBeUndefined();
    expect(v9.mysqlHostnameMaxLength).toBe(60);
  });

  test('a release without the image facts: no init_db.sql in the image, host names of up to 255 characters', () => {
    const release = new VitessRelease(releaseProps());
    expect(release.imageInitDbSqlPath).toBeUndefined();
    expect(release.mysqlHostnameMaxLength).toBe(255);
    const custom = new VitessRelease({ ...releaseProps(), imageInitDbSqlPath: '/opt/vitess/init_db.sql', mysqlHostnameMaxLength: 60 });
    expect(custom.imageInitDbSqlPath).toBe('/opt/vitess/init_db.sql');
    expect(custom.mysqlHostnameMaxLength).toBe(60);
  });

  test('fails for a bad imageInitDbSqlPath or mysqlHostnameMaxLength', () => {
    const props = releaseProps();
    expect(() => new VitessRelease({ ...props, imageInitDbSqlPath: 'config/init_db.sql' })).toThrow(
      "VitessRelease: 'imageInitDbSqlPath' must be an absolute file path without spaces, got 'config/init_db.sql'",
    );
    expect(() => new VitessRelease({ ...props, imageInitDbSqlPath: '/vt/config/' })).toThrow(/'imageInitDbSqlPath' must be an absolute file path.*got '\/vt\/config\/'/);
    expect(() => new VitessRelease({ ...props, imageInitDbSqlPath: '/vt/my config.sql' })).toThrow(/'imageInitDbSqlPath' must be an absolute file path/);
    expect(() => new VitessRelease({ ...props, imageInitDbSqlPath: '' })).toThrow(/'imageInitDbSqlPath' must be an absolute file path.*got ''/);
    for (const bad of [0, 60.5, 256, -1]) {
      expect(() => new VitessRelease({ ...props, mysqlHostnameMaxLength: bad })).toThrow(
        `VitessRelease: 'mysqlHostnameMaxLength' must be a whole number from 1 to 255 (MySQL takes host names of up to 255 characters), got ${bad}`,
      );
    }
  });
});

/** The props of a release shaped like v9.0 without the optional image facts. */
function releaseProps() {
  return {
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
}

describe('VitessRelease.V22_0', () => {
  const v22 = VitessRelease.V22_0;

  test('a current release: pflag, vtctldclient, primary, /vitess roots, plain addresses, no vtworker', () => {
    expect(v22.image).toBe('vitess/lite:v22.0.3');
    expect(v22.majorVersion).toBe(22);
    expect(v22.flag('port', 15000)).toBe('--port=15000');
    expect(v22.flag('tablet-path', 'test-0000000100')).toBe('--tablet-path=test-0000000100');
    expect(v22.vtctlClient).toBe(VtctlClient.VTCTLDCLIENT);
    expect(v22.hasVtworker).toBe(false);
    expect(v22.topoGlobalRoot).toBe('/vitess/global');
    expect(v22.cellRoot('test')).toBe('/vitess/test');
    expect(v22.topoServerAddress('etcd-test-client:2379')).toBe('etcd-test-client:2379');
    expect(v22.primaryTypeName).toBe('primary');
    expect([v22.v3ReshardingMode, v22.tabletSemiSyncFlag, v22.vtgateGatewayFlag]).toEqual([false, false, false]);
  });

  test('what the v22.0 image holds: /vt/config/init_db.sql, MySQL 8.0 with host names of up to 255 characters', () => {
    // docker/lite/Dockerfile lines 52 and 67 and docker/utils/install_dependencies.sh lines 74-76
    // at v22.0.4, the same at v22.0.1 (so at v22.0.3 between them): MySQL 8.0.40.
    expect(v22.imageInitDbSqlPath).toBe('/vt/config/init_db.sql');
    expect(v22.mysqlHostnameMaxLength).toBe(255);
  });

  test('command flags: vtctldclient spells them with dashes, vtctlclient as vtctl names them', () => {
    expect(v22.commandFlag('server_address', 'etcd:2379')).toBe('--server-address=etcd:2379');
    expect(v22.commandFlag('table_names_only')).toBe('--table-names-only');
    expect(VitessRelease.V9_0.commandFlag('server_address', 'x')).toBe('-server_address=x');
  });

  test('every vtctldclient command of the v22.0 profile exists in Vitess v22.0.3', () => {
    const reference = loadReference('modern');
    expect(reference.release).toMatch(/^v22\.0\.3/);
    for (const command of v22.vtctlCommands) {
      expect(reference.vtctldclient.commandNames).toContain(command);
    }
  });

  test('refuses the commands it does not have', () => {
    expect(() => v22.requireVtctlCommand('InitShardMaster', 'Test')).toThrow(/Test: Vitess v22.0.3 has no vtctldclient command 'InitShardMaster'/);
    expect(() => v22.requireVtworkerCommand('SplitClone', 'Test')).toThrow(/Test: Vitess v22.0.3 has no vtworker \(removed in v15\)/);
  });
});

describe('VitessRelease.V24_0', () => {
  const v24 = VitessRelease.V24_0;
  const v22 = VitessRelease.V22_0;
  const reference = loadReference('v24');

  test('a current release as v22.0: vtctldclient, primary, /vitess roots, plain addresses, no vtworker', () => {
    expect(v24.version).toBe('v24.0.4');
    expect(v24.image).toBe('vitess/lite:v24.0.4');
    expect(v24.majorVersion).toBe(24);
    expect(v24.flagStyle).toBe(FlagStyle.PFLAG_DASHED);
    expect(v24.vtctlClient).toBe(VtctlClient.VTCTLDCLIENT);
    expect(v24.hasVtworker).toBe(false);
    expect(v24.topoGlobalRoot).toBe('/vitess/global');
    expect(v24.cellRoot('test')).toBe('/vitess/test');
    expect(v24.topoServerAddress('etcd-test-client:2379')).toBe('etcd-test-client:2379');
    expect(v24.primaryTypeName).toBe('primary');
    expect([v24.v3ReshardingMode, v24.tabletSemiSyncFlag, v24.vtgateGatewayFlag]).toEqual([false, false, false]);
    expect(v24.vtctlCommands).toEqual(v22.vtctlCommands);
    expect(v24.vtworkerCommands).toEqual([]);
  });

  test('flags with dashes, as v24 names them; the glog names v24 still spells with underscores stay', () => {
    expect(v24.flag('init_keyspace', 'test_keyspace')).toBe('--init-keyspace=test_keyspace');
    expect(v24.flag('tablet-path', 'test-0000000100')).toBe('--tablet-path=test-0000000100');
    expect(v24.flag('enable_replication_reporter')).toBe('--enable-replication-reporter');
    expect(v24.flag('port', 15000)).toBe('--port=15000');
    expect(v24.flag('log_dir', '/vt/logs')).toBe('--log_dir=/vt/logs');
    expect(UNDERSCORE_FLAG_NAMES).toEqual(['log_backtrace_at', 'log_dir', 'log_link']);
    expect(v24.commandFlag('server_address', 'etcd:2379')).toBe('--server-address=etcd:2379');
    // v22 is unchanged: underscores as the library writes them.
    expect(v22.flagStyle).toBe(FlagStyle.PFLAG);
    expect(v22.flag('init_keyspace', 'test_keyspace')).toBe('--init_keyspace=test_keyspace');
    expect(v22.flag('log_dir', '/vt/logs')).toBe('--log_dir=/vt/logs');
  });

  test('the names that stay underscored are the ones v24 prints with underscores, and v24 has no other', () => {
    // vtctldclient's global flags and vtctlclient's flags list glog's names as they are.
    for (const name of UNDERSCORE_FLAG_NAMES) {
      expect(reference.vtctldclient.globalFlags).toContain(`--${name}`);
      expect(reference.extraBinaries.vtctlclient).toContain(`--${name}`);
    }
    const underscored = new Set<string>();
    for (const flags of [...Object.values(reference.binaries), ...Object.values(reference.extraBinaries)] as string[][]) {
      flags.filter((flag) => flag.includes('_')).forEach((flag) => underscored.add(flag.slice(2)));
    }
    expect([...underscored].sort()).toEqual([...UNDERSCORE_FLAG_NAMES]);
  });

  test('no --logtostderr (v24 logs to standard error by default and deprecates it), no vtctld --cell (a no-op in v24)', () => {
    expect(v24.logtostderrFlag).toBe(false);
    expect(v24.logFlags()).toEqual([]);
    expect(v24.vtctldCellFlag).toBe(false);
    expect(reference.binaries.vttablet).not.toContain('--logtostderr');
    expect(reference.hiddenDeprecatedFlags.allCobraBinaries).toContain('--logtostderr');
    expect(reference.binaries.vtctld).not.toContain('--cell');
    expect(reference.hiddenDeprecatedFlags.vtctld).toContain('--cell');
    // v22 and v9 keep both.
    expect(v22.logFlags()).toEqual(['--logtostderr']);
    expect(VitessRelease.V9_0.logFlags()).toEqual(['-logtostderr']);
    expect([v22.logtostderrFlag, v22.vtctldCellFlag, VitessRelease.V9_0.vtctldCellFlag]).toEqual([true, true, true]);
  });

  test('what the v24.0 image holds: /vt/config/init_db.sql, MySQL 8.4 with host names of up to 255 characters', () => {
    // docker/lite/Dockerfile lines 71 and 87 and docker/utils/install_dependencies.sh lines
    // 167-170 at v0.24.4: MySQL 8.4.8, and config/init_db.sql copied to /vt/config/.
    expect(v24.imageInitDbSqlPath).toBe('/vt/config/init_db.sql');
    expect(v24.mysqlHostnameMaxLength).toBe(255);
  });

  test('every vtctldclient command of the v24.0 profile exists in Vitess v24.0.4', () => {
    expect(reference.release).toBe('v24.0.4');
    expect(reference.module).toMatchObject({ path: 'vitess.io/vitess', version: 'v0.24.4', sum: 'h1:fjIFc28fGYF6Bxu4heHsKvx+huPbA4NmIeLJL4clbc8=' });
    for (const command of v24.vtctlCommands) {
      expect(reference.vtctldclient.commandNames).toContain(command);
    }
  });

  test('refuses the commands it does not have', () => {
    expect(() => v24.requireVtctlCommand('InitShardMaster', 'Test')).toThrow(/Test: Vitess v24.0.4 has no vtctldclient command 'InitShardMaster'/);
    expect(() => v24.requireVtworkerCommand('SplitClone', 'Test')).toThrow(/Test: Vitess v24.0.4 has no vtworker \(removed in v15\)/);
  });

  test('a release without logtostderrFlag and vtctldCellFlag takes both', () => {
    const release = new VitessRelease(releaseProps());
    expect([release.logtostderrFlag, release.vtctldCellFlag]).toEqual([true, true]);
    const custom = new VitessRelease({ ...releaseProps(), flagStyle: FlagStyle.PFLAG_DASHED, logtostderrFlag: false, vtctldCellFlag: false });
    expect([custom.logtostderrFlag, custom.vtctldCellFlag, custom.logFlags()]).toEqual([false, false, []]);
    expect(custom.flag('mysql_port', 3306)).toBe('--mysql-port=3306');
  });

  test('fails for a bad flagStyle, logtostderrFlag or vtctldCellFlag', () => {
    const props = releaseProps();
    expect(() => new VitessRelease({ ...props, flagStyle: 'PFLAG_DASHES' as FlagStyle })).toThrow(
      "VitessRelease: 'flagStyle' must be one of GO_FLAG, PFLAG, PFLAG_DASHED, got 'PFLAG_DASHES'",
    );
    expect(() => new VitessRelease({ ...props, logtostderrFlag: 'false' as unknown as boolean })).toThrow(
      'VitessRelease: \'logtostderrFlag\' must be true or false, got "false"',
    );
    expect(() => new VitessRelease({ ...props, vtctldCellFlag: 0 as unknown as boolean })).toThrow(
      "VitessRelease: 'vtctldCellFlag' must be true or false, got 0",
    );
  });
});
