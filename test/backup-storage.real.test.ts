// BackupStorage.s3 with the real vtctld and vtctldclient of Vitess v24.0.4 (built by
// `tools/build.sh image-v24`): the vtctld container of a synthesized Vtctld runs with its args and
// environment as synthesized, against an S3-compatible server on 127.0.0.1 (tools/s3-server: the
// in-memory gofakes3 behind a check of AWS Signature Version 4 with one key pair, built by
// `tools/build.sh s3-server`) and a real etcd (`tools/build.sh`). `vtctldclient GetBackups` must list
// the backups the test put in the bucket when the Secret holds the server's key pair, whether as
// environment keys or as a shared credentials file, and fail when it holds a wrong secret key.
//
// What stands in for the kubelet: the Secret's keys are given to the process (`secretKeyRef`) or
// written to a folder per Secret volume (a mount path in an argument or an environment value is
// replaced by that folder), vtctld runs as the pod's user (UID 999, with setpriv; vtctld refuses to
// run as root), and its --port and --grpc-port are free loopback ports instead of 15000 and 15999.
// AWS_EC2_METADATA_DISABLED is set as well, so that a run whose credentials were not found fails
// at once instead of asking the instance metadata service, which is not a loopback address.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { BackupStorage, JobCondition, S3CredentialsSecret, TopologyServer, VitessRelease, Vtctld } from '../lib';
import { commandChecks } from '../lib/jobs/job-condition';
import { httpGet, runProcess, freePort } from './util/real-etcd';
import { container, findObject, testChart } from './util/synth';
import { toolPaths } from './util/tools';

jest.setTimeout(120_000);

const RELEASE = VitessRelease.V24_0;
const BUCKET = 'vitess-backups';
const KEY_PREFIX = 'prod';
const ACCESS_KEY_ID = 'AKIAVITESSTEST000001';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYvitessTEST';
/** Two backups of commerce/0: one complete (its MANIFEST), one that a killed tablet left (no MANIFEST). */
const COMPLETE = '2026-01-31.120000.zone1-0000000101';
const UNFINISHED = '2026-02-01.120000.zone1-0000000102';

/** A built binary; throws, naming the build command, when it is missing. */
function built(dirVariable: string, name: string, target: string): string {
  const dir = toolPaths()[dirVariable];
  const file = path.join(dir ?? '', name);
  if (!dir || !fs.existsSync(file)) {
    throw new Error(`${file} is missing: build it with 'tools/build.sh ${target}' (npm test and .ci/run do)`);
  }
  return file;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 200 ms until it returns true, at most `timeoutMs`; throws with `what` then. */
async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
}

/** A process this test started, with its output so far. */
class Started {
  public output = '';
  public readonly exited: Promise<number | null>;
  constructor(public readonly name: string, public readonly child: ChildProcess) {
    child.stdout?.on('data', (d) => (this.output += d));
    child.stderr?.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  public async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(killer);
  }
}

const started: Started[] = [];
function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const process = new Started(name, spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  started.push(process);
  return process;
}

let work: string;
let etcdPort: number;
let s3: Started;
let s3Endpoint: string;

beforeAll(async () => {
  const etcd = built('ETCD_BIN_DIR', 'etcd', '');
  const s3Server = built('S3_SERVER_BIN_DIR', 's3-server', 's3-server');
  built('VITESS_V24_BIN_DIR', 'vtctld', 'image-v24');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-s3-real-'));
  // vtctld runs as UID 999 and reads the Secret files below `work`.
  fs.chmodSync(work, 0o755);

  etcdPort = await freePort();
  const peerPort = await freePort();
  start('etcd', etcd, [
    `--data-dir=${path.join(work, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
  ], { PATH: process.env.PATH });
  await waitUntil('etcd to answer /health', 30_000, async () => (await httpGet('127.0.0.1', etcdPort, '/health', 1000)).body.includes('"health":"true"'));

  // The bucket's objects: two backups of commerce/0 under the key prefix, one of them with a MANIFEST.
  const seed = path.join(work, 'seed');
  for (const [backup, files] of [[COMPLETE, ['0', 'MANIFEST']], [UNFINISHED, ['0']]] as const) {
    const dir = path.join(seed, KEY_PREFIX, 'commerce', '0', backup);
    fs.mkdirSync(dir, { recursive: true });
    for (const file of files) fs.writeFileSync(path.join(dir, file), file === 'MANIFEST' ? '{"BackupName":"' + backup + '"}' : 'data');
  }
  s3 = start('s3-server', s3Server, ['-access-key-id', ACCESS_KEY_ID, '-bucket', BUCKET, '-seed', seed], {
    PATH: process.env.PATH,
    S3_SERVER_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
  });
  await waitUntil('the S3 server to listen', 30_000, async () => /listening on 127\.0\.0\.1:\d+/.test(s3.output));
  s3Endpoint = `http://${/listening on (127\.0\.0\.1:\d+)/.exec(s3.output)![1]}`;
});

afterAll(async () => {
  for (const process of started.reverse()) {
    await process.stop();
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The vtctld container and pod of a Vtctld with this storage, synthesized for RELEASE. */
function synthesizedVtctld(backup: BackupStorage): { container: any; pod: any } {
  const chart = testChart();
  new Vtctld(chart, 'Vtctld', { release: RELEASE, globalTopology: TopologyServer.fromAddress('global', `127.0.0.1:${etcdPort}`), cell: 'zone1', backup });
  const deployment = findObject(Testing.synth(chart), 'Deployment', 'vtctld');
  return { container: container(deployment, 'vtctld'), pod: deployment.spec.template.spec };
}

/**
 * Runs the synthesized vtctld container with the Secrets' data, as described at the top, and
 * returns it once it answers; its web and gRPC ports.
 */
async function runVtctld(backup: BackupStorage, secrets: Record<string, Record<string, string>>, name: string): Promise<{ vtctld: Started; grpcPort: number }> {
  const { container: c, pod } = synthesizedVtctld(backup);
  const dir = fs.mkdtempSync(path.join(work, `${name}-`));
  fs.chmodSync(dir, 0o755);
  // Volumes: a folder each; a Secret volume's items written into it, readable by the pod's user.
  const mounts: Record<string, string> = {};
  for (const mount of c.volumeMounts as Array<{ name: string; mountPath: string }>) {
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    const folder = path.join(dir, mount.name);
    fs.mkdirSync(folder, { mode: 0o755 });
    if (volume.secret) {
      for (const item of volume.secret.items) {
        const data = secrets[volume.secret.secretName]?.[item.key];
        if (data === undefined) throw new Error(`Secret ${volume.secret.secretName} has no key ${item.key}`);
        fs.writeFileSync(path.join(folder, item.path), data, { mode: 0o644 });
      }
    } else if (!volume.emptyDir) {
      throw new Error(`volume ${mount.name} is neither a Secret nor an emptyDir`);
    }
    mounts[mount.mountPath] = folder;
  }
  const mapped = (value: string): string => {
    for (const [mountPath, folder] of Object.entries(mounts)) {
      value = value.replace(new RegExp(`(^|=)${mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$)`), `$1${folder}`);
    }
    return value;
  };
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(dir, 'tmp'), AWS_EC2_METADATA_DISABLED: 'true' };
  for (const e of (c.env ?? []) as any[]) {
    if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const data = secrets[ref.name]?.[ref.key];
      if (data === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
      env[e.name] = data;
    } else {
      env[e.name] = mapped(e.value);
    }
  }
  const webPort = await freePort();
  const grpcPort = await freePort();
  const args = (c.args as string[]).map((arg) =>
    arg === RELEASE.flag('port', 15000) ? RELEASE.flag('port', webPort) : arg === RELEASE.flag('grpc_port', 15999) ? RELEASE.flag('grpc_port', grpcPort) : mapped(arg),
  );
  expect(args).toContain(RELEASE.flag('port', webPort));
  expect(args).toContain(RELEASE.flag('grpc_port', grpcPort));
  const uid = String(pod.securityContext.runAsUser);
  const vtctld = start(name, 'setpriv', [`--reuid=${uid}`, `--regid=${pod.securityContext.runAsGroup}`, '--clear-groups', '--', built('VITESS_V24_BIN_DIR', 'vtctld', 'image-v24'), ...args], env);
  await waitUntil(`${name} to answer /debug/health with ok`, 60_000, async () => {
    if (vtctld.child.exitCode !== null) throw new Error(`${name} exited: ${vtctld.output}`);
    return (await httpGet('127.0.0.1', webPort, '/debug/health', 1000)).body.trim() === 'ok';
  });
  return { vtctld, grpcPort };
}

/** `vtctldclient GetBackups commerce/0` against the vtctld, with an action timeout. */
async function getBackups(grpcPort: number): Promise<{ code: number | null; output: string; stdout: string }> {
  const result = await runProcess(
    built('VITESS_V24_BIN_DIR', 'vtctldclient', 'image-v24'),
    [`--server=127.0.0.1:${grpcPort}`, '--action-timeout=30s', 'GetBackups', 'commerce/0'],
    { PATH: process.env.PATH, HOME: work },
    45_000,
  );
  return { code: result.code, output: result.stdout + result.stderr, stdout: result.stdout };
}

/** The S3 server's log lines since `from` characters. */
function s3Log(from: number): string[] {
  return s3.output.slice(from).split('\n').filter((l) => l.startsWith('s3-server: '));
}

function storage(credentialsSecret: S3CredentialsSecret): BackupStorage {
  return BackupStorage.s3({ bucket: BUCKET, region: 'us-east-1', endpoint: s3Endpoint, forcePathStyle: true, keyPrefix: KEY_PREFIX, credentialsSecret });
}

test('keys from the Secret in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: vtctld lists the bucket’s backups', async () => {
  // GIVEN
  const backup = storage({ secretName: 'vitess-backup-s3' });
  const { container: c } = synthesizedVtctld(backup);
  expect(c.env).toEqual([
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'vitess-backup-s3', key: 'AWS_ACCESS_KEY_ID' } } },
    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'vitess-backup-s3', key: 'AWS_SECRET_ACCESS_KEY' } } },
  ]);
  expect(JSON.stringify(c)).not.toContain(SECRET_ACCESS_KEY);
  const from = s3.output.length;
  const { vtctld, grpcPort } = await runVtctld(backup, { 'vitess-backup-s3': { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY } }, 'vtctld-env');
  try {
    // WHEN
    const listed = await getBackups(grpcPort);
    // THEN: both backups are listed (the unfinished one too: vtctld does not read MANIFESTs)
    expect(listed.output).not.toContain('rpc error');
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toEqual([COMPLETE, UNFINISHED]);
    expect(s3Log(from)).toEqual(expect.arrayContaining([`s3-server: allowed HEAD /${BUCKET}`, `s3-server: allowed GET /${BUCKET}`]));
    expect(s3Log(from).filter((l) => l.includes('refused'))).toEqual([]);
    // and JobCondition.backupListed, which the backup Jobs of an object store check, holds on this output
    const [check] = commandChecks(JobCondition.backupListed('commerce', '0')._render(RELEASE));
    expect(check.command).toEqual(['GetBackups', 'commerce/0']);
    for (const pattern of check.present) {
      expect(listed.stdout.split('\n').some((line) => new RegExp(pattern).test(line))).toBe(true);
    }
  } finally {
    await vtctld.stop();
  }
});

test('a shared credentials file from a Secret volume, named by AWS_SHARED_CREDENTIALS_FILE: vtctld lists them too', async () => {
  // GIVEN
  const backup = storage({ secretName: 'vitess-backup-aws', sharedCredentialsFileKey: 'credentials' });
  const { container: c } = synthesizedVtctld(backup);
  expect(c.env).toEqual([{ name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/vt/secrets/backup-s3-credentials/credentials' }]);
  const file = `[default]\naws_access_key_id = ${ACCESS_KEY_ID}\naws_secret_access_key = ${SECRET_ACCESS_KEY}\n`;
  const from = s3.output.length;
  const { vtctld, grpcPort } = await runVtctld(backup, { 'vitess-backup-aws': { credentials: file } }, 'vtctld-file');
  try {
    // WHEN
    const listed = await getBackups(grpcPort);
    // THEN
    expect(listed.output).not.toContain('rpc error');
    expect(listed.stdout.trim().split('\n')).toEqual([COMPLETE, UNFINISHED]);
    expect(s3Log(from)).toContain(`s3-server: allowed GET /${BUCKET}`);
  } finally {
    await vtctld.stop();
  }
});

test('a wrong secret key in the Secret: the S3 server refuses the signature, and GetBackups fails', async () => {
  // GIVEN
  const backup = storage({ secretName: 'vitess-backup-s3' });
  const from = s3.output.length;
  const { vtctld, grpcPort } = await runVtctld(
    backup,
    { 'vitess-backup-s3': { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: `${SECRET_ACCESS_KEY.slice(0, -1)}X` } },
    'vtctld-wrong',
  );
  try {
    // WHEN
    const listed = await getBackups(grpcPort);
    // THEN
    expect(listed.code).not.toBe(0);
    expect(listed.output).toContain('HeadBucket');
    expect(listed.output).toContain('StatusCode: 403');
    expect(listed.stdout).not.toContain(COMPLETE);
    expect(s3Log(from)).toEqual([expect.stringMatching(new RegExp(`^s3-server: refused 403 SignatureDoesNotMatch HEAD /${BUCKET}: `))]);
  } finally {
    await vtctld.stop();
  }
});
