// The retention of a BackupSchedule's script against the real vtctld and vtctldclient of Vitess
// v24.0.4 (built by tools/build.sh into .cache/tools/vitess-v0.24.4/bin), with the synthesized
// vtctld's own flags, on a real etcd (util/real-etcd.ts, one member of a synthesized EtcdCell) and
// file backup storage in a temporary directory. Everything listens on 127.83.14.1 (etcd) and
// 127.83.14.2 (vtctld, ports picked free), and is stopped in afterAll. Taking a real backup needs
// tablets and mysqld: that is the real-Vitess e2e's; here the backup directories are made as
// Vitess writes them, and the script's retention phase runs alone (`bash -c <script> bash retention`).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { BackupSchedule, BackupStorage, EtcdCell, TopologyServer, Vtctld, VitessRelease } from '../lib';
import { RealEtcdCluster, runProcess, freePort } from './util/real-etcd';
import { findObject, testChart } from './util/synth';
import { toolPaths } from './util/tools';

const ETCD_IP = '127.83.14.1';
const VTCTLD_IP = '127.83.14.2';
/** How long any one step may take. */
const STEP_TIMEOUT_MS = 60_000;

jest.setTimeout(5 * 60_000);

const release = VitessRelease.V24_0;
const binDir = toolPaths().VITESS_V24_BIN_DIR ?? path.resolve(__dirname, '..', '.cache', 'tools', 'vitess-v0.24.4', 'bin');
/** The `vitess` user of the image, which the pods run as; vtctld refuses to run as root. */
const VITESS_UID = 999;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-schedule-real-'));
fs.chmodSync(root, 0o755);
const backupRoot = path.join(root, 'backups');
fs.mkdirSync(backupRoot);
const vtctldTmp = path.join(root, 'tmp');
fs.mkdirSync(vtctldTmp);
for (const dir of [backupRoot, vtctldTmp]) {
  fs.chownSync(dir, VITESS_UID, VITESS_UID);
}

let etcd: RealEtcdCluster | undefined;
let vtctld: ChildProcess | undefined;
let vtctldExit: string | undefined;
const vtctldLog = path.join(root, 'vtctld.log');
let grpcAddress = '';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** vtctldclient against the real vtctld; its exit status and output. */
function vtctldclient(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProcess(path.join(binDir, 'vtctldclient'), [`--server=${grpcAddress}`, ...args], { PATH: process.env.PATH }, STEP_TIMEOUT_MS);
}

/** Gives the backup storage to the `vitess` user, as the export is (vtctld deletes in it). */
function chownBackups(dir = backupRoot): void {
  fs.chownSync(dir, VITESS_UID, VITESS_UID);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      chownBackups(file);
    } else {
      fs.chownSync(file, VITESS_UID, VITESS_UID);
    }
  }
}

beforeAll(async () => {
  for (const binary of ['vtctld', 'vtctldclient']) {
    if (!fs.existsSync(path.join(binDir, binary))) {
      throw new Error(`${path.join(binDir, binary)} is missing: build it with 'tools/build.sh image-v24'`);
    }
  }
  // One etcd member, as EtcdCell synthesizes it.
  const etcdChart = testChart();
  new EtcdCell(etcdChart, 'Etcd', { cell: 'global', replicas: 1 });
  etcd = await RealEtcdCluster.start(findObject(Testing.synth(etcdChart), 'StatefulSet', 'etcd-global'), [ETCD_IP], STEP_TIMEOUT_MS);

  // vtctld with the synthesized flags: the etcd's address, the backup root a directory here, and
  // its ports free ones on its own loopback address.
  const chart = testChart();
  new Vtctld(chart, 'Vtctld', {
    release,
    globalTopology: TopologyServer.fromAddress('global', `${ETCD_IP}:2379`),
    cell: 'test',
    backup: BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess' }),
  });
  const container = findObject(Testing.synth(chart), 'Deployment', 'vtctld').spec.template.spec.containers[0];
  const [webPort, grpcPort] = [await freePort(VTCTLD_IP), await freePort(VTCTLD_IP)];
  const args: string[] = container.args.map((arg: string) =>
    arg
      .replace(/^--port=15000$/, `--port=${webPort}`)
      .replace(/^--grpc-port=15999$/, `--grpc-port=${grpcPort}`)
      .replace(/^--file-backup-storage-root=\/vt\/backups$/, `--file-backup-storage-root=${backupRoot}`),
  );
  expect(args).toContain(`--file-backup-storage-root=${backupRoot}`);
  expect(args).toContain(`--topo-global-server-address=${ETCD_IP}:2379`);
  grpcAddress = `${VTCTLD_IP}:${grpcPort}`;
  const log = fs.openSync(vtctldLog, 'w');
  // As the pod's user; setpriv kills vtctld should this process die first.
  vtctld = spawn(
    'setpriv',
    [
      `--reuid=${VITESS_UID}`,
      `--regid=${VITESS_UID}`,
      '--clear-groups',
      '--pdeathsig=KILL',
      '--',
      path.join(binDir, 'vtctld'),
      ...args,
      `--bind-address=${VTCTLD_IP}`,
      `--grpc-bind-address=${VTCTLD_IP}`,
    ],
    { cwd: vtctldTmp, env: { PATH: process.env.PATH, TMPDIR: vtctldTmp }, stdio: ['ignore', log, log], detached: true },
  );
  fs.closeSync(log);
  vtctld.on('exit', (code, signal) => (vtctldExit = `${code ?? signal}`));

  // Ready once it answers (bounded).
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    if (vtctldExit !== undefined) {
      throw new Error(`vtctld exited (${vtctldExit}):\n${fs.readFileSync(vtctldLog, 'utf8')}`);
    }
    const answer = await vtctldclient(['--action-timeout=2s', 'GetCellInfoNames']);
    if (answer.code === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`vtctld did not answer within ${STEP_TIMEOUT_MS} ms: ${answer.stderr}\n${fs.readFileSync(vtctldLog, 'utf8')}`);
    }
    await sleep(500);
  }
});

afterAll(async () => {
  if (vtctld && vtctldExit === undefined) {
    const exited = new Promise<void>((resolve) => vtctld!.once('exit', () => resolve()));
    process.kill(-vtctld.pid!, 'SIGKILL');
    await exited;
  }
  await etcd?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const DAY = 86400;

/** A backup name `<UTC YYYY-MM-DD.HHMMSS>.<alias>` of `secondsAgo` seconds ago (go/vt/mysqlctl/backup.go 134 at v0.24.4). */
function backupName(secondsAgo: number, alias = 'test-0000000101'): string {
  const stamp = new Date(Date.now() - secondsAgo * 1000).toISOString();
  return `${stamp.slice(0, 10)}.${stamp.slice(11, 13)}${stamp.slice(14, 16)}${stamp.slice(17, 19)}.${alias}`;
}

/**
 * A backup directory `<root>/<keyspace>/<shard>/<name>/` as the builtin engine leaves it: its data
 * files, and when complete the MANIFEST, JSON of builtinBackupManifest (go/vt/mysqlctl/backupengine.go
 * 297-349 for the common fields, builtinbackupengine.go 108-140 for FileEntries and SkipCompress,
 * written last, 1027-1061, at v0.24.4). An incomplete one has files and no MANIFEST, as a backup
 * that is running or whose tablet was killed.
 */
function writeBackup(keyspaceShard: string, name: string, complete: boolean): void {
  const dir = path.join(backupRoot, keyspaceShard, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '0'), 'compressed data of the first file');
  if (complete) {
    const [keyspace, shard] = keyspaceShard.split('/');
    const manifest = {
      BackupName: name,
      BackupMethod: 'builtin',
      Position: 'MySQL56/8a6e4b5c-1111-11ef-8c6a-0242ac120002:1-42',
      PurgedPosition: '',
      FromPosition: '',
      FromBackup: '',
      Incremental: false,
      BackupTime: `${name.slice(0, 10)}T${name.slice(11, 13)}:${name.slice(13, 15)}:${name.slice(15, 17)}Z`,
      FinishedTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ServerUUID: '8a6e4b5c-1111-11ef-8c6a-0242ac120002',
      TabletAlias: name.split('.')[2],
      Hostname: 'vttablet-101-0.vttablet-test-keyspace-0-test.default.svc.cluster.local',
      Keyspace: keyspace,
      Shard: shard,
      MySQLVersion: '8.4.8',
      UpgradeSafe: false,
      IncrementalDetails: null,
      CompressionEngine: 'pargzip',
      FileEntries: [{ Base: 'Data', Name: 'ibdata1', Hash: '2cf24dba', ParentPath: '' }],
      SkipCompress: false,
      ExternalDecompressor: '',
    };
    fs.writeFileSync(path.join(dir, 'MANIFEST'), JSON.stringify(manifest, null, 2));
  }
  chownBackups();
}

function remaining(keyspaceShard: string): string[] {
  return fs.readdirSync(path.join(backupRoot, keyspaceShard)).sort();
}

/** The synthesized script of the shard's CronJob, with the image's paths this machine's, run with `args`. */
function runSchedule(shard: string, keepCount: number, keepFor: Duration | undefined, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const chart = testChart();
  new BackupSchedule(chart, 'Backups', {
    vtctld: { release, grpcAddress },
    backup: BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess' }),
    name: 'daily',
    keyspace: 'test_keyspace',
    shards: [shard],
    schedule: '0 3 * * *',
    keepCount,
    keepFor,
  });
  const cronJob = Testing.synth(chart).find((o: any) => o.kind === 'CronJob');
  const script: string = cronJob.spec.jobTemplate.spec.template.spec.containers[0].command[2];
  const local = script.split('/vt/bin/').join(`${binDir}/`).split('/vt/backups').join(backupRoot);
  // The script bounds its listing to 60 s; the run as a whole gets twice the step time.
  const result = spawnSync('/bin/bash', ['-c', local, 'bash', ...args], {
    encoding: 'utf8',
    timeout: 2 * STEP_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: root },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('GetBackups prints one name per line, a shard without backups one empty line, and leaves status UNKNOWN', async () => {
  // GIVEN a complete and an incomplete backup of test_keyspace/80-
  const complete = backupName(2 * DAY);
  const incomplete = backupName(DAY);
  writeBackup('test_keyspace/80-', complete, true);
  writeBackup('test_keyspace/80-', incomplete, false);

  // WHEN vtctldclient lists them, and a shard without any
  const listing = await vtctldclient(['GetBackups', 'test_keyspace/80-']);
  const none = await vtctldclient(['GetBackups', 'test_keyspace/80-c0']);
  const json = await vtctldclient(['GetBackups', '--json', 'test_keyspace/80-']);

  // THEN the plain listing is what the script reads; the JSON tells the two apart in nothing but the name
  expect(listing).toMatchObject({ code: 0, stdout: `${complete}\n${incomplete}\n` });
  expect(none).toMatchObject({ code: 0, stdout: '\n' });
  expect(json.code).toBe(0);
  const backups = JSON.parse(json.stdout).backups;
  expect(backups.map((b: any) => [b.name, b.status, b.engine])).toEqual([
    [complete, 'UNKNOWN', ''],
    [incomplete, 'UNKNOWN', ''],
  ]);
});

test('the retention deletes, through the real vtctld, the complete backups beyond keepCount and keepFor, and nothing else', () => {
  // GIVEN complete backups of 40, 30, 20, 10 and 1 day ago, and an incomplete one of an hour ago
  const shard = 'test_keyspace/0';
  const [d40, d30, d20, d10, d1] = [40, 30, 20, 10, 1].map((days) => backupName(days * DAY));
  for (const name of [d40, d30, d20, d10, d1]) {
    writeBackup(shard, name, true);
  }
  const running = backupName(3600, 'test-0000000102');
  writeBackup(shard, running, false);

  // WHEN the retention keeps 2 and 15 days
  const first = runSchedule('0', 2, Duration.days(15), ['retention']);

  // THEN the 2 newest complete ones (1 and 10 days) stay, 20 days and older go, the incomplete one stays
  expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
  expect(remaining(shard)).toEqual([d10, d1, running]);
  expect(first.stdout).toContain(`RemoveBackup test_keyspace/0 ${d40}`);
  expect(first.stdout).toContain('retention: deleted 3 backups');

  // WHEN it runs again with keepCount 1 and no time THEN only the newest complete one and the incomplete one stay
  const second = runSchedule('0', 1, undefined, ['retention']);
  expect({ status: second.status, stderr: second.stderr }).toEqual({ status: 0, stderr: '' });
  expect(remaining(shard)).toEqual([d1, running]);

  // WHEN it runs once more THEN there is nothing to delete: the newest complete backup is never deleted
  const third = runSchedule('0', 1, undefined, ['retention']);
  expect({ status: third.status, stderr: third.stderr }).toEqual({ status: 0, stderr: '' });
  expect(third.stdout).toContain('retention: nothing to delete');
  expect(remaining(shard)).toEqual([d1, running]);
});

test('a directory that is not a backup, which vtctld lists all the same, makes the retention fail and delete nothing', () => {
  // GIVEN old backups and a directory someone made by hand
  const shard = 'test_keyspace/-80';
  const names = [30, 20, 10].map((days) => backupName(days * DAY));
  for (const name of names) {
    writeBackup(shard, name, true);
  }
  fs.mkdirSync(path.join(backupRoot, shard, 'copy-before-upgrade'));
  chownBackups();

  // WHEN
  const result = runSchedule('-80', 1, undefined, ['retention']);

  // THEN
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("FAILED: cannot read the listing of test_keyspace/-80: 'copy-before-upgrade' is not a backup name");
  expect(remaining(shard)).toEqual([...names, 'copy-before-upgrade']);
});

test('a vtctld that does not answer makes the retention fail and delete nothing, once the listing gives up after 60 s', () => {
  // GIVEN old backups, and the script pointed at an address where nothing listens
  const shard = 'test_keyspace/c0-';
  const names = [30, 20].map((days) => backupName(days * DAY));
  for (const name of names) {
    writeBackup(shard, name, true);
  }
  const saved = grpcAddress;
  grpcAddress = `${VTCTLD_IP}:1`;
  try {
    // WHEN
    const result = runSchedule('c0-', 1, undefined, ['retention']);

    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED: listing the backups of test_keyspace/c0- exited with status');
    expect(result.stderr).toContain('FAILED: deleting no backup of test_keyspace/c0-: the listing failed or could not be read');
    expect(remaining(shard)).toEqual(names);
  } finally {
    grpcAddress = saved;
  }
});
