import * as path from 'path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import {
  BackupStorage,
  EtcdCell,
  JobCondition,
  TabletShard,
  VitessRelease,
  VtctlJob,
  Vtctld,
  Vtgate,
} from './lib';

/**
 * The example NFS export for backups. Replace both values with your own export; it must be
 * writable by UID 999 and mountable from every node.
 */
export const EXAMPLE_NFS = { server: 'nfs.example.internal', path: '/exports/vitess-backups' };

/** The guide's `messages` table. */
export const MESSAGES_SCHEMA = `CREATE TABLE messages (
  page BIGINT(20) UNSIGNED,
  time_created_ns BIGINT(20) UNSIGNED,
  message VARCHAR(10000),
  PRIMARY KEY (page, time_created_ns)
) ENGINE=InnoDB`;

/**
 * The source guide's cluster on Vitess v9.0 (the vtworker flow), one chart per file, in the order
 * the guide applies them:
 * - `00-cluster`: etcd for `global` and `test`, vtctld, the tablets of `test_keyspace/0`, vtgate;
 * - `01-init`: the Jobs AddCellInfo, InitShardMaster, ApplySchema, Backup, RebuildVSchemaGraph,
 *   each waiting for the previous one's effect.
 */
export function buildVtworkerFlow(outdir: string): App {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const release = VitessRelease.V9_0;
  const keyspace = 'test_keyspace';
  const backup = BackupStorage.nfs(EXAMPLE_NFS);

  const cluster = new Chart(app, '00-cluster', { disableResourceNameHashes: true });
  const globalTopology = new EtcdCell(cluster, 'EtcdGlobal', { cell: 'global' });
  const testCell = new EtcdCell(cluster, 'EtcdTest', { cell: 'test' });
  const vtctld = new Vtctld(cluster, 'Vtctld', { release, globalTopology, cell: 'test', backup });
  const shard0 = new TabletShard(cluster, 'TestKeyspaceShard0', {
    release,
    globalTopology,
    cell: 'test',
    keyspace,
    shard: '0',
    uidBase: 100,
    backup,
  });
  new Vtgate(cluster, 'VtgateTest', { release, globalTopology, cell: 'test' });

  const init = new Chart(app, '01-init', { disableResourceNameHashes: true });
  testCell.addCellInfoJob(init, 'AddCellInfoTest', vtctld);
  shard0.initPrimaryJob(init, 'InitShardMaster', vtctld);
  const backupTablet = shard0.rdonlyAliases[shard0.rdonlyAliases.length - 1];
  new VtctlJob(init, 'ApplySchema', {
    vtctld,
    jobName: 'vtctl-applyschema-test-keyspace',
    waitFor: [JobCondition.shardHasPrimary(keyspace, '0')],
    skipIf: JobCondition.tableExists(shard0.primaryCandidate, 'messages'),
    commands: [['ApplySchema', release.flag('sql', MESSAGES_SCHEMA), keyspace]],
  });
  new VtctlJob(init, 'Backup', {
    vtctld,
    jobName: `vtctl-backup-${backupTablet}`,
    waitFor: [JobCondition.tableExists(backupTablet, 'messages')],
    skipIf: JobCondition.backupExists(keyspace, '0'),
    commands: [['Backup', backupTablet]],
  });
  new VtctlJob(init, 'RebuildVSchemaGraph', {
    vtctld,
    jobName: 'vtctl-rebuildvschemagraph',
    waitFor: [JobCondition.backupExists(keyspace, '0')],
    commands: [['RebuildVSchemaGraph']],
  });
  return app;
}

/** Every example app, each writing into its own folder of `outdir`. */
export function buildApps(outdir: string): App[] {
  return [buildVtworkerFlow(path.join(outdir, 'vtworker'))];
}

if (require.main === module) {
  for (const app of buildApps(process.env.CDK8S_OUTDIR ?? 'dist')) {
    app.synth();
  }
}
