// The tablets' mysqld_exporter sidecar, run for real: the exporter of the default image's release,
// built by `tools/build.sh exporter` from the Go module proxy, with exactly the synthesized
// container's command line, against a real MariaDB server (Debian's mariadb-server-core) that
// listens only on a Unix socket (--skip-networking) in the tablet directory of a temporary
// VTDATAROOT, with the monitoring user created by the statements of Vitess's own init_db.sql.
//
// What stands in for the pod: the data volume is a temporary directory, which the exporter sees
// read-only at a path of its own (a read-only bind mount in a mount namespace of its own, as the
// kubelet mounts `readOnly: true`), and the volume's mount path in the args is rewritten to that
// path; the exporter listens on 127.0.0.1 instead of every address (the one other rewrite), on a
// free port the TabletShard is given; mariadbd and the exporter run as the pod's user (999).
// Needs root (mount namespaces, setpriv), mariadbd and mariadb-install-db, and Go with the module
// proxy (the init_db.sql files of the releases, from the Go module cache).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as mysql from 'mysql2/promise';
import { EtcdCell, MysqldExporterOptions, TabletShard, VitessRelease } from '../lib';
import { MYSQLD_EXPORTER_COLLECTOR_FLAGS } from '../lib/internal/mysqld-exporter';
import { httpGet, runProcess, freePort } from './util/real-etcd';
import { container, findObject, testChart } from './util/synth';
import { toolPaths, toolVersions } from './util/tools';

/** The pod's user and group (UserIds.VITESS). */
const POD_UID = 999;
/** The tablet whose exporter runs. */
const UID = 100;
const TABLET_DIR = `vt_${String(UID).padStart(10, '0')}`;
/** How long a server may take to start. */
const START_MS = 60_000;

const versions = toolVersions();
const exporterBinary = path.join(toolPaths().MYSQLD_EXPORTER_BIN_DIR, 'mysqld_exporter');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The exporter container of tablet 100 of a TabletShard with these exporter options. */
function synthesizedExporter(options: MysqldExporterOptions): any {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new TabletShard(chart, 'Shard', {
    release: VitessRelease.V24_0,
    globalTopology,
    cell: 'test',
    keyspace: 'test_keyspace',
    shard: '0',
    replicaCount: 1,
    rdonlyCount: 0,
    mysqldExporter: options,
  });
  return container(findObject(Testing.synth(chart), 'StatefulSet', `vttablet-${UID}`), 'mysqld-exporter');
}

/**
 * The statements of a release's config/init_db.sql that create and grant the user `user`, in
 * order, from the release's source in the Go module cache (fetched through the module proxy when
 * missing).
 */
async function initDbStatements(version: string, user: string): Promise<string[]> {
  const download = await runProcess('go', ['mod', 'download', '-json', `vitess.io/vitess@${version}`], { ...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off' }, 300_000);
  if (download.code !== 0) {
    throw new Error(`go mod download vitess.io/vitess@${version} failed (exit ${download.code}): ${download.stdout}${download.stderr}`);
  }
  const dir = JSON.parse(download.stdout).Dir as string;
  const sql = fs.readFileSync(path.join(dir, 'config', 'init_db.sql'), 'utf8');
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter((statement) => statement.includes(`'${user}'@`));
}

/** A server or exporter started by this test, with its log. */
interface Started {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

const started: Started[] = [];
let root = '';

/**
 * Starts `command` as the pod's user, killed with the test process (setpriv --pdeathsig), in a
 * process group of its own; with `readOnlyBind`, in a mount namespace of its own where
 * `readOnlyBind.source` is bind-mounted read-only at `readOnlyBind.target`.
 */
function start(name: string, command: string[], env: NodeJS.ProcessEnv, readOnlyBind?: { source: string; target: string }): Started {
  const logFile = path.join(root, `${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const asPodUser = ['setpriv', `--reuid=${POD_UID}`, `--regid=${POD_UID}`, '--clear-groups', '--pdeathsig=KILL', '--', ...command];
  // unshare, sh and setpriv exec one another: the child's pid is the command's.
  const argv =
    readOnlyBind === undefined
      ? asPodUser
      : [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        // ... and refuses to start when the view could be written to
        'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && ! (: >"$2/.write-check") 2>/dev/null && shift 2 && exec "$@"',
        'sh',
        readOnlyBind.source,
        readOnlyBind.target,
        ...asPodUser,
      ];
  const child = spawn(argv[0], argv.slice(1), { cwd: root, env, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  const entry: Started = { name, process: child, logFile };
  child.on('exit', (code, signal) => (entry.exit = { code, signal }));
  child.on('error', (err) => fs.appendFileSync(logFile, `\nspawn failed: ${err.message}\n`));
  started.push(entry);
  return entry;
}

/** Ends a started process group: SIGTERM, then SIGKILL after 10 s. */
async function stop(entry: Started): Promise<void> {
  if (entry.exit !== undefined || entry.process.pid === undefined) return;
  const exited = new Promise<void>((resolve) => entry.process.once('exit', () => resolve()));
  try {
    process.kill(-entry.process.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-entry.process.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/** The last lines of every log, for failure messages. */
function logs(): string {
  return started
    .map((s) => `--- ${s.name} (${s.exit ? `exited ${s.exit.code ?? s.exit.signal}` : 'running'}):\n${fs.existsSync(s.logFile) ? fs.readFileSync(s.logFile, 'utf8').split('\n').slice(-20).join('\n') : ''}`)
    .join('\n');
}

/** Waits (up to `ms`) until `check` holds, failing early when `entry` has exited. */
async function waitFor(what: string, entry: Started, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (entry.exit !== undefined) {
      throw new Error(`${entry.name} exited (${entry.exit.code ?? entry.exit.signal}) before ${what}\n${logs()}`);
    }
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`no ${what} within ${ms} ms\n${logs()}`);
}

/** The value of the sample `name` (a metric without labels) in a Prometheus text exposition. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The volume directory of the data volume, and the read-only view of it that the exporter mounts. */
let vtdataroot = '';
let mounted = '';
let socket = '';
let mariadbd: Started;

/**
 * Runs the exporter as the synthesized container says: its command and args, its mount path
 * rewritten to the read-only view of the temporary data volume and its listen address to
 * 127.0.0.1, its environment as the kubelet resolves it (`secretValues` for a secretKeyRef).
 */
async function runExporter(name: string, exporter: any, port: number, secretValues: Record<string, string> = {}): Promise<Started> {
  const mountPath: string = exporter.volumeMounts.find((m: any) => m.name === 'vtdataroot').mountPath;
  const args = (exporter.args as string[]).map((arg) =>
    arg.split(`${mountPath}/`).join(`${mounted}/`).replace(new RegExp(`^--web\\.listen-address=:${port}$`), `--web.listen-address=127.0.0.1:${port}`),
  );
  expect(args).toContain(`--web.listen-address=127.0.0.1:${port}`);
  const env: NodeJS.ProcessEnv = {};
  for (const variable of exporter.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    env[variable.name] = ref !== undefined ? secretValues[`${ref.name}/${ref.key}`] : variable.value;
  }
  // The image's binary (its ENTRYPOINT, which the container's command names) is the built one.
  expect(exporter.command).toEqual(['/bin/mysqld_exporter']);
  const entry = start(name, [exporterBinary, ...args], env, { source: vtdataroot, target: mounted });
  await waitFor(`${name} answering its readiness probe`, entry, 30_000, async () => (await httpGet('127.0.0.1', port, exporter.readinessProbe.httpGet.path, 2_000)).status === 200);
  return entry;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error('this test needs root: it runs mariadbd and the exporter as the pod user 999 (setpriv) and mounts in a mount namespace (unshare)');
  }
  if (!fs.existsSync(exporterBinary)) {
    throw new Error(`${exporterBinary} is missing: build it with 'tools/build.sh exporter' (needs Go and the Go module proxy; npm test does it)`);
  }
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mysqld-exporter-real-'));
  fs.chmodSync(root, 0o755);
  vtdataroot = path.join(root, 'vtdataroot');
  mounted = path.join(root, 'exporter-view', 'vt', 'vtdataroot');
  fs.mkdirSync(path.join(vtdataroot, TABLET_DIR), { recursive: true });
  fs.mkdirSync(mounted, { recursive: true });
  for (const dir of [vtdataroot, path.join(vtdataroot, TABLET_DIR)]) {
    fs.chownSync(dir, POD_UID, POD_UID);
  }
  socket = path.join(vtdataroot, TABLET_DIR, 'mysql.sock');
  const dataDir = path.join(vtdataroot, TABLET_DIR, 'data');
  // A data directory as the pod's user, root's password empty (mysql_native_password) so that
  // the test's client can create the users over the socket.
  const install = start('mariadb-install-db', ['mariadb-install-db', '--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { PATH: process.env.PATH });
  const deadline = Date.now() + START_MS;
  while (install.exit === undefined && Date.now() < deadline) {
    await sleep(250);
  }
  if (install.exit?.code !== 0) {
    throw new Error(`mariadb-install-db did not succeed within ${START_MS} ms\n${logs()}`);
  }
}, 120_000);

afterAll(async () => {
  for (const entry of [...started].reverse()) {
    await stop(entry);
  }
  if (root !== '') {
    fs.rmSync(root, { recursive: true, force: true });
  }
}, 60_000);

test('the built exporter is the release of the default image, with its collector flags', async () => {
  // GIVEN the default exporter container
  const exporter = synthesizedExporter({});
  // WHEN
  const version = await runProcess(exporterBinary, ['--version'], { PATH: process.env.PATH }, 10_000);
  const help = await runProcess(exporterBinary, ['--help'], { PATH: process.env.PATH }, 10_000);
  // THEN the image's tag is the version built
  expect(exporter.image).toBe(`prom/mysqld-exporter:${versions.MYSQLD_EXPORTER_VERSION}`);
  expect(`${version.stdout}${version.stderr}`).toMatch(new RegExp(`^mysqld_exporter, version ${versions.MYSQLD_EXPORTER_VERSION.slice(1).replace(/\./g, '\\.')} \\(branch: HEAD, revision: ${versions.MYSQLD_EXPORTER_GIT_REV}\\)`));
  // ... and the collector flags the library checks are those of its --help: `--[no-]collect.<name>`
  // for one that is on or off, `--collect.<name>=<default>` for one that takes a value
  const flags: Record<string, string> = {};
  for (const match of `${help.stdout}${help.stderr}`.matchAll(/^\s+(?:-h, )?--(\[no-\])?collect\.([a-z0-9_.]+)(=)?/gm)) {
    flags[match[2]] = match[1] !== undefined ? 'bool' : 'value';
  }
  expect(Object.keys(flags).length).toBeGreaterThan(40);
  expect(flags).toEqual(MYSQLD_EXPORTER_COLLECTOR_FLAGS);
}, 30_000);

test('the monitoring user is created by the same statements in the init_db.sql of every release', async () => {
  // WHEN
  const byRelease = await Promise.all(
    [versions.VITESS_V9_VERSION, versions.VITESS_V22_VERSION, versions.VITESS_V24_VERSION].map((v) => initDbStatements(v, 'vt_monitoring')),
  );
  // THEN a user without a password, with the grants the exporter needs (PROCESS, REPLICATION CLIENT, SELECT)
  expect(byRelease[0]).toEqual([
    "CREATE USER 'vt_monitoring'@'localhost'",
    "GRANT SELECT, PROCESS, SUPER, REPLICATION CLIENT, RELOAD ON *.* TO 'vt_monitoring'@'localhost'",
    "GRANT SELECT, UPDATE, DELETE, DROP ON performance_schema.* TO 'vt_monitoring'@'localhost'",
  ]);
  expect(byRelease[1]).toEqual(byRelease[0]);
  expect(byRelease[2]).toEqual(byRelease[0]);
}, 600_000);

test("the synthesized exporter reads MariaDB's metrics over the tablet's socket, through a read-only mount, as vt_monitoring", async () => {
  // GIVEN the exporter of tablet 100 with a collector beyond the defaults, on a free port
  const port = await freePort();
  const exporter = synthesizedExporter({ port, collectors: { 'info_schema.processlist': true } });
  expect(exporter.volumeMounts).toEqual([{ name: 'vtdataroot', mountPath: '/vt/vtdataroot', readOnly: true }]);
  expect(exporter.args[0]).toBe(`--mysqld.address=unix:///vt/vtdataroot/${TABLET_DIR}/mysql.sock`);
  expect(exporter.env).toBeUndefined();

  // WHEN the exporter starts before mysqld, as in a tablet whose mysqld is still initialising
  await runExporter('exporter', exporter, port);
  // THEN it is ready (its probes' path answers) and reports MySQL down
  expect((await httpGet('127.0.0.1', port, exporter.livenessProbe.httpGet.path, 5_000)).status).toBe(200);
  const before = await httpGet('127.0.0.1', port, '/metrics', 10_000);
  expect(before.status).toBe(200);
  expect(sample(before.body, 'mysql_up')).toBe(0);

  // WHEN mariadbd serves on the tablet's socket only, and the user is created as init_db.sql does
  mariadbd = start('mariadbd', [
    'mariadbd', '--no-defaults', `--datadir=${path.join(vtdataroot, TABLET_DIR, 'data')}`, `--socket=${socket}`, '--skip-networking',
    `--pid-file=${path.join(vtdataroot, TABLET_DIR, 'mysql.pid')}`, `--log-error=${path.join(root, 'mariadbd.err')}`, '--innodb-buffer-pool-size=32M',
  ], { PATH: process.env.PATH });
  await waitFor('mariadbd serving on its socket', mariadbd, START_MS, async () => fs.existsSync(socket));
  const statements = await initDbStatements(versions.VITESS_V24_VERSION, 'vt_monitoring');
  const client = await mysql.createConnection({ socketPath: socket, user: 'root' });
  try {
    for (const statement of statements) {
      await client.query(statement);
    }
    // THEN
    const [variables] = await client.query("SHOW GLOBAL VARIABLES LIKE 'skip_networking'");
    expect(variables).toEqual([{ Variable_name: 'skip_networking', Value: 'ON' }]);
  } finally {
    await client.end();
  }

  // THEN the exporter reports MySQL up, with its metrics (the server's uptime counting up from
  // its start, in whole seconds) and those of the extra collector
  let metrics = '';
  await waitFor('mysql_up 1 and an uptime of a second', mariadbd, 30_000, async () => {
    metrics = (await httpGet('127.0.0.1', port, '/metrics', 10_000)).body;
    return sample(metrics, 'mysql_up') === 1 && (sample(metrics, 'mysql_global_status_uptime') ?? 0) >= 1;
  });
  expect(sample(metrics, 'mysql_global_status_uptime')).toBeLessThan(START_MS / 1000 + 60);
  expect(metrics).toMatch(/^mysql_version_info\{.*version="10\.11\.\d+-MariaDB/m);
  // every collector succeeded with vt_monitoring's grants, the one of the collectors flag too
  const collectors = [...metrics.matchAll(/^mysql_exporter_collector_success\{collector="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  expect(collectors).toContainEqual(['collect.info_schema.processlist', 1]);
  expect(collectors).toContainEqual(['collect.global_status', 1]);
  expect(collectors.filter(([, ok]) => ok !== 1)).toEqual([]);
}, 180_000);

test('a password from the Secret reaches the exporter through MYSQLD_EXPORTER_PASSWORD, and is used', async () => {
  // GIVEN a user with a password, and exporters with the password from a Secret
  expect(mariadbd?.exit).toBeUndefined();
  const client = await mysql.createConnection({ socketPath: socket, user: 'root' });
  try {
    await client.query("CREATE USER 'exporter'@'localhost' IDENTIFIED BY 'exporter-secret-1'");
    await client.query("GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'localhost'");
  } finally {
    await client.end();
  }
  const options = { username: 'exporter', passwordSecret: { secretName: 'mysql-exporter', key: 'password' } };
  const [right, wrong] = [await freePort(), await freePort()];
  const exporter = synthesizedExporter({ ...options, port: right });
  expect(exporter.env).toEqual([{ name: 'MYSQLD_EXPORTER_PASSWORD', valueFrom: { secretKeyRef: { name: 'mysql-exporter', key: 'password' } } }]);
  expect(JSON.stringify(exporter.args)).not.toContain('exporter-secret-1');

  // WHEN one runs with the Secret's right value and one with a wrong one
  await runExporter('exporter-password', exporter, right, { 'mysql-exporter/password': 'exporter-secret-1' });
  await runExporter('exporter-wrong-password', synthesizedExporter({ ...options, port: wrong }), wrong, { 'mysql-exporter/password': 'not-the-password' });

  // THEN only the first logs in
  let metrics = '';
  await waitFor('mysql_up 1 with the password', mariadbd, 30_000, async () => {
    metrics = (await httpGet('127.0.0.1', right, '/metrics', 10_000)).body;
    return sample(metrics, 'mysql_up') === 1;
  });
  expect(sample(metrics, 'mysql_global_status_uptime')).toBeGreaterThanOrEqual(1);
  expect(sample((await httpGet('127.0.0.1', wrong, '/metrics', 10_000)).body, 'mysql_up')).toBe(0);
}, 120_000);
