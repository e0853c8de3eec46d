// The real vtgate of Vitess v24.0.4 and v9.0.0 (built by tools/build.sh), run with the container
// args of synthesized Vtgates with `tls`, against a real etcd (a synthesized 1-member EtcdCell, see
// util/real-etcd.ts) and reached with the real MariaDB client over TLS. Needs root (for setpriv
// and the etcd member's mount namespace), openssl and the MariaDB client (`mariadb` or `mysql`,
// Debian's mariadb-client; .ci/run installs it).
//
// What stands in for the pods, as the kubelet would provide it:
// - each volume mount path is a directory of its own: a Secret volume's items are files written
//   there from the Secret's data (made here with openssl), with the Secret volume's default mode
//   0644; the emptyDir /tmp is an empty directory owned by the pod's user;
// - the image's /vt/bin/<binary> is the built binary of the release, run as the pod's runAsUser
//   and runAsGroup (they refuse to run as root: go/vt/servenv/servenv.go:105-107 at v0.9.0,
//   go/vt/servenv/servenv_unix.go:68-70 at v0.24.4);
// - the args are the container's args with the mount paths mapped to those directories and the
//   web, gRPC and MySQL ports moved to free ports (a pod has its own network namespace; this
//   machine's ports are shared), which the test checks are the only args it changes;
// - the cell is registered as a cluster registers it: a synthesized Vtctld runs the same way, and
//   the release's client (vtctldclient, vtctlclient on v9) runs the AddCellInfo command of the
//   library's AddCellInfoJob against it. vtgate refuses to start without its cell (v24:
//   "cells_to_watch validation failed"; v9: "gateway.WaitForTablets failed: node doesn't exist").
//
// vtgate holds no tablets here, so the proof of encryption is vtgate's own count of connections
// by TLS version, MysqlServerConnCountByTLSVer on /debug/vars (go/mysql/server.go:69, 449-456 and
// 462-463 at v0.24.4; :66, 341-348 and 353-354 at v0.9.0), read while the client's connection is
// open, not the client's `status` command: its `select DATABASE(), USER() limit 1` makes vtgate v24, which
// has no keyspace here, recover from a nil pointer panic and close the connection (getDualTable
// reads the name of the nil keyspace that FirstKeyspace returns without keyspaces:
// go/vt/vtgate/executorcontext/vcursor_impl.go:579-581 and go/vt/vtgate/vindexes/vschema.go:1476
// at v0.24.4).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { AddCellInfoJob, EtcdCell, TopologyServer, VitessRelease, Vtctld, Vtgate, VtgateProps, VtgateTlsOptions, VtgateTlsVersion } from '../lib';
import { RealEtcdCluster, httpGet, runProcess, freePort } from './util/real-etcd';
import { container, findObject, testChart } from './util/synth';
import { toolPaths } from './util/tools';
import { vitessInvocations } from './util/vitess-reference';

/** The MySQL user of the static auth file. */
const USER = 'app';
const PASSWORD = 'app-password';
/** How long a daemon may take to open its port. */
const START_TIMEOUT_MS = 60_000;
/** How long one client run may take. */
const CLIENT_TIMEOUT_MS = 20_000;

/** The releases run, each with its built binaries and an etcd address of its own (the etcd real test uses 127.0.0.11 and up). */
const RELEASES = [
  { name: 'v24.0.4', release: VitessRelease.V24_0, binDir: 'VITESS_V24_BIN_DIR', build: 'tools/build.sh image-v24', etcdIp: '127.0.41.1' },
  { name: 'v9.0.0', release: VitessRelease.V9_0, binDir: 'VITESS_V9_BIN_DIR', build: 'tools/build.sh image-v9', etcdIp: '127.0.41.2' },
] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise that resolves after `ms`, whose timer does not keep the test process alive (for races). */
function deadline(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The TLS versions (or `None`) of vtgate's open connections, by count, without the versions it counts none of. */
function openConnections(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));
}

/** Whether a TCP connection to 127.0.0.1:port succeeds within a second. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The MariaDB client on this machine. */
function mariadbClient(): string {
  for (const name of ['mariadb', 'mysql']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim();
  }
  throw new Error("no MariaDB client ('mariadb' or 'mysql'): apt-get install mariadb-client (.ci/run installs it)");
}

/** Runs openssl in `dir`; throws with its output when it fails. */
function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  }
}

/** The PEM files of a test PKI: a server CA, vtgate's certificate, another CA, a client CA and a client certificate. */
interface Pki {
  readonly serverCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly otherCa: string;
  readonly clientCa: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Makes {@link Pki} in `dir`: vtgate's certificate for IP 127.0.0.1 and localhost, signed by the server CA. */
function makePki(dir: string): Pki {
  const ca = (name: string): void => openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
  const signed = (name: string, caName: string, extensions: string): void => {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${extensions}\n`);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  ca('server-ca');
  ca('other-ca');
  ca('client-ca');
  signed('vtgate', 'server-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  signed('client', 'client-ca', 'extendedKeyUsage=clientAuth');
  const file = (name: string): string => path.join(dir, name);
  return {
    serverCa: file('server-ca.crt'),
    serverCert: file('vtgate.crt'),
    serverKey: file('vtgate.key'),
    otherCa: file('other-ca.crt'),
    clientCa: file('client-ca.crt'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
  };
}

/** One Vitess daemon started from a synthesized Deployment. */
class RealDaemon {
  /**
   * Starts the container `containerName` of `deployment`, from the release's binaries in `binDir`,
   * with its Secret volumes filled from `secrets` (by Secret name, then key), and waits until the
   * port `readyPort` ('mysql' or 'grpc') accepts connections; throws with its log when it exits or
   * does not open the port within {@link START_TIMEOUT_MS}.
   */
  public static async start(
    name: string,
    root: string,
    release: VitessRelease,
    binDir: string,
    deployment: any,
    containerName: string,
    readyPort: 'mysql' | 'grpc',
    secrets: Record<string, Record<string, string>> = {},
  ): Promise<RealDaemon> {
    const ports = { web: await freePort(), grpc: await freePort(), mysql: await freePort() };
    const daemon = new RealDaemon(name, root, release, binDir, container(deployment, containerName), deployment.spec.template.spec, secrets, ports);
    try {
      await daemon.waitForPort(ports[readyPort]);
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  /** The container args as synthesized. */
  public readonly synthesizedArgs: string[];
  /** The args as run. */
  public readonly args: string[];
  public readonly logFile: string;
  private readonly process: ChildProcess;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    public readonly name: string,
    root: string,
    release: VitessRelease,
    binDir: string,
    c: any,
    pod: any,
    secrets: Record<string, Record<string, string>>,
    public readonly ports: { readonly web: number; readonly grpc: number; readonly mysql: number },
  ) {
    const uid: number = pod.securityContext.runAsUser;
    const gid: number = pod.securityContext.runAsGroup;
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { mode: 0o755 });
    const mounts: Record<string, string> = {};
    for (const mount of c.volumeMounts as Array<{ name: string; mountPath: string }>) {
      const volume = pod.volumes.find((v: any) => v.name === mount.name);
      const volumeDir = path.join(dir, mount.name);
      fs.mkdirSync(volumeDir, { mode: 0o755 });
      if (volume.secret) {
        const data = secrets[volume.secret.secretName];
        if (!data) throw new Error(`${name}: no data of the Secret ${volume.secret.secretName}`);
        for (const item of volume.secret.items as Array<{ key: string; path: string }>) {
          if (data[item.key] === undefined) throw new Error(`${name}: the Secret ${volume.secret.secretName} has no key ${item.key}`);
          fs.writeFileSync(path.join(volumeDir, item.path), data[item.key], { mode: 0o644 });
        }
      } else if (volume.emptyDir) {
        fs.chownSync(volumeDir, uid, gid);
      } else {
        throw new Error(`${name}: volume ${mount.name} is neither a Secret nor an emptyDir`);
      }
      mounts[mount.mountPath] = volumeDir;
    }
    this.synthesizedArgs = c.args;
    const flagName = (arg: string): string => arg.split('=')[0];
    const portFlags: Record<string, number> = {
      [flagName(release.flag('port', 0))]: ports.web,
      [flagName(release.flag('grpc_port', 0))]: ports.grpc,
      [flagName(release.flag('mysql_server_port', 0))]: ports.mysql,
    };
    const byLength = Object.keys(mounts).sort((a, b) => b.length - a.length);
    this.args = c.args.map((arg: string) => {
      const [flag, ...rest] = arg.split('=');
      if (flag in portFlags) return `${flag}=${portFlags[flag]}`;
      const value = rest.join('=');
      const mountPath = byLength.find((m) => value.startsWith(`${m}/`));
      return mountPath === undefined ? arg : `${flag}=${mounts[mountPath]}${value.slice(mountPath.length)}`;
    });
    const binary = path.join(binDir, path.posix.basename(c.command[0]));
    this.logFile = path.join(dir, 'log');
    const log = fs.openSync(this.logFile, 'w');
    this.process = spawn('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--pdeathsig=KILL', '--', binary, ...this.args], {
      cwd: mounts['/tmp'] ?? dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', log, log],
      detached: true,
    });
    fs.closeSync(log);
    this.process.on('exit', (code, signal) => (this.exit = { code, signal }));
  }

  /** The last lines of the log, for failure messages. */
  public logTail(): string {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return `--- ${this.name} (${this.exit ? `exited ${this.exit.code ?? this.exit.signal}` : 'running'}): ${this.args.join(' ')}\n${text.split('\n').slice(-15).join('\n')}`;
  }

  /** vtgate's count of open MySQL connections by TLS version, from /debug/vars. */
  public async connectionsByTlsVersion(): Promise<Record<string, number>> {
    const answer = await httpGet('127.0.0.1', this.ports.web, '/debug/vars', 5_000);
    return JSON.parse(answer.body).MysqlServerConnCountByTLSVer ?? {};
  }

  /** Kills the daemon (SIGKILL to its process group) and waits until it is gone, 10 s at most. */
  public async stop(): Promise<void> {
    if (this.exit !== undefined || this.process.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    try {
      process.kill(-this.process.pid, 'SIGKILL');
    } catch {
      return; // already gone
    }
    await Promise.race([exited, deadline(10_000)]);
  }

  private async waitForPort(port: number): Promise<void> {
    const until = Date.now() + START_TIMEOUT_MS;
    for (let attempt = 0; attempt < 600 && Date.now() < until; attempt++) {
      if (this.exit !== undefined) throw new Error(`${this.name} exited before it opened its port ${port}\n${this.logTail()}`);
      if (await canConnect(port)) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not open its port ${port} within ${START_TIMEOUT_MS / 1000} s\n${this.logTail()}`);
  }
}

/** The error vtgate answers a plaintext login with under require_secure_transport (go/mysql/server.go:458-461 at v0.24.4, :350-352 at v0.9.0). */
const INSECURE_REFUSED = 'ERROR 1105 (HY000): unknown error: Code: UNAVAILABLE\nserver does not allow insecure connections, client must use SSL/TLS';

/** What a MySQL server sent, as {@link plaintextLoginIgnoringErrors} reads it. */
type ServerAnswer =
  | { kind: 'error'; code: number; message: string }
  | { kind: 'ok' }
  | { kind: 'result'; rows: string[][] }
  | { kind: 'closed' }
  | { kind: 'other'; first: number };

/**
 * A MySQL client written out by hand (protocol 4.1, mysql_native_password, no TLS) that reads on
 * after an error, as a hostile client would: it sends its login, reads the answers to it, sends
 * `query` once an OK came (or after the first answer, whatever it was), and returns every answer
 * until the result set ends or the server closes the connection. Bounded by
 * {@link CLIENT_TIMEOUT_MS}.
 */
function plaintextLoginIgnoringErrors(port: number, user: string, password: string, query: string): Promise<ServerAnswer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const answers: ServerAnswer[] = [];
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'login' | 'columns' | 'column-defs' | 'rows' | 'done' = 'greeting';
    let rows: string[][] = [];
    const timer = setTimeout(() => finish(new Error(`no end of the exchange within ${CLIENT_TIMEOUT_MS} ms: ${JSON.stringify(answers)}`)), CLIENT_TIMEOUT_MS);
    function finish(error?: Error): void {
      if (stage === 'done') return;
      stage = 'done';
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answers);
    }
    function send(sequence: number, payload: Buffer): void {
      const header = Buffer.alloc(4);
      header.writeUIntLE(payload.length, 0, 3);
      header[3] = sequence;
      socket.write(Buffer.concat([header, payload]));
    }
    const sha1 = (data: Buffer): Buffer => createHash('sha1').update(data).digest();
    function login(greeting: Buffer): void {
      // The 20 bytes of salt: 8 after the connection id, 12 after the capability and status fields.
      let at = greeting.indexOf(0, 1) + 1 + 4;
      const salt1 = greeting.subarray(at, at + 8);
      at += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
      const salt = Buffer.concat([salt1, greeting.subarray(at, at + 12)]);
      const hash = sha1(Buffer.from(password));
      const scramble = Buffer.from(sha1(Buffer.concat([salt, sha1(hash)])).map((b, i) => b ^ hash[i]));
      const capabilities = Buffer.alloc(4);
      // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
      capabilities.writeUInt32LE(0x1 | 0x200 | 0x2000 | 0x8000 | 0x80000);
      const maxPacket = Buffer.alloc(4);
      maxPacket.writeUInt32LE(1 << 24);
      send(
        1,
        Buffer.concat([capabilities, maxPacket, Buffer.from([33]), Buffer.alloc(23), Buffer.from(`${user}\0`), Buffer.from([20]), scramble, Buffer.from('mysql_native_password\0')]),
      );
      stage = 'login';
    }
    function onPacket(payload: Buffer): void {
      if (stage === 'greeting') return login(payload);
      if (payload[0] === 0xff) {
        // ERR: code, '#' and the SQL state, the message
        answers.push({ kind: 'error', code: payload.readUInt16LE(1), message: payload.subarray(9).toString() });
      } else if (stage === 'login') {
        answers.push(payload[0] === 0x00 ? { kind: 'ok' } : { kind: 'other', first: payload[0] });
      }
      if (stage === 'login') {
        if (answers[answers.length - 1].kind === 'ok' || answers.length >= 2) {
          stage = 'columns';
          send(0, Buffer.concat([Buffer.from([0x03]), Buffer.from(query)]));
        }
        return;
      }
      if (payload[0] === 0xff) return finish();
      if (stage === 'columns') {
        stage = 'column-defs';
      } else if (stage === 'column-defs') {
        if (payload[0] === 0xfe && payload.length < 9) stage = 'rows';
      } else if (stage === 'rows') {
        if (payload[0] === 0xfe && payload.length < 9) {
          answers.push({ kind: 'result', rows });
          return finish();
        }
        // a row of length-encoded strings shorter than 251 bytes
        const row: string[] = [];
        for (let at = 0; at < payload.length; at += 1 + payload[at]) row.push(payload.subarray(at + 1, at + 1 + payload[at]).toString());
        rows = [...rows, row];
      }
    }
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      while (stage !== 'done' && buffer.length >= 4 && buffer.length >= 4 + buffer.readUIntLE(0, 3)) {
        const length = buffer.readUIntLE(0, 3);
        const payload = buffer.subarray(4, 4 + length);
        buffer = buffer.subarray(4 + length);
        onPacket(payload);
      }
    });
    socket.on('close', () => {
      answers.push({ kind: 'closed' });
      finish();
    });
    socket.on('error', (err) => finish(err));
  });
}

/** The MariaDB client's args to reach `vtgate` as the test user, then `extra`. */
function clientArgs(vtgate: RealDaemon, extra: string[]): string[] {
  return ['--protocol=TCP', '-h', '127.0.0.1', '-P', String(vtgate.ports.mysql), '-u', USER, `--password=${PASSWORD}`, '--connect-timeout=10', ...extra];
}

/** Runs the MariaDB client against `vtgate` with `extra` args and the SQL `query`. */
function mariadb(vtgate: RealDaemon, extra: string[], query: string) {
  return runProcess(mariadbClient(), clientArgs(vtgate, [...extra, '--batch', '--skip-column-names', '-e', query]), { PATH: process.env.PATH }, CLIENT_TIMEOUT_MS);
}

/**
 * Opens a MariaDB client session to `vtgate` with `extra` args, runs `select 1` in it, then calls
 * `whileOpen` while the connection is still open, and ends the session; returns what `whileOpen`
 * returned. Throws with the client's output when `select 1` does not answer within the timeout.
 */
async function whileConnected<T>(vtgate: RealDaemon, extra: string[], whileOpen: () => Promise<T>): Promise<T> {
  const client = spawn(mariadbClient(), clientArgs(vtgate, [...extra, '--batch', '--skip-column-names', '--unbuffered']), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  client.stdout!.on('data', (d) => (out += d));
  client.stderr!.on('data', (d) => (out += d));
  const ended = new Promise<void>((resolve) => client.once('close', () => resolve()));
  try {
    client.stdin!.write('select 1;\n');
    const until = Date.now() + CLIENT_TIMEOUT_MS;
    while (!/^1$/m.test(out)) {
      if (client.exitCode !== null || Date.now() > until) {
        throw new Error(`the client's 'select 1' did not answer: ${out}`);
      }
      await sleep(50);
    }
    return await whileOpen();
  } finally {
    client.stdin!.end();
    await Promise.race([ended, deadline(5_000)]);
    if (client.exitCode === null) client.kill('SIGKILL');
  }
}

describe.each(RELEASES)('vtgate $name with TLS on its MySQL port, run with the synthesized args', ({ name, release, binDir: binDirKey, build, etcdIp }) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `vtgate-tls-real-${name}-`));
  fs.chmodSync(root, 0o755);
  const etcdAddress = `${etcdIp}:2379`;
  const globalTopology = TopologyServer.fromAddress('global', etcdAddress);
  /** vtgate v9 has no minimum TLS version flag (the library refuses it there). */
  const hasMinVersion = release !== VitessRelease.V9_0;
  /** TLS with require_secure_transport, from a kubernetes.io/tls Secret (the default keys). */
  const requiredTls: VtgateTlsOptions = { secretName: 'vtgate-tls', requireSecureTransport: true };
  /** TLS with a client CA (and TLS 1.3 at least where the release has the flag), from a Secret with keys of its own; plaintext admitted. */
  const mutualTls: VtgateTlsOptions = {
    secretName: 'vtgate-mtls',
    certKey: 'server.pem',
    keyKey: 'server-key.pem',
    caKey: 'client-ca.pem',
    ...(hasMinVersion ? { minVersion: VtgateTlsVersion.TLS_1_3 } : {}),
  };
  let etcd: RealEtcdCluster | undefined;
  let vtctld: RealDaemon | undefined;
  let required: RealDaemon | undefined;
  let mutual: RealDaemon | undefined;
  let pki: Pki;

  /** A synthesized vtgate Deployment of cell `test` with `props`. */
  function vtgateDeployment(props: Partial<VtgateProps>): any {
    const chart = testChart();
    const vtgate = new Vtgate(chart, 'Vtgate', { release, globalTopology, cell: 'test', ...props });
    return findObject(Testing.synth(chart), 'Deployment', vtgate.name);
  }

  beforeAll(async () => {
    const binDir = toolPaths()[binDirKey];
    for (const binary of ['vtgate', 'vtctld', release.vtctlClient]) {
      if (!fs.existsSync(path.join(binDir, binary))) {
        throw new Error(`${path.join(binDir, binary)} is missing: build it with '${build}' (needs Go and the Go module proxy; .ci/run does it)`);
      }
    }
    pki = makePki(fs.mkdtempSync(path.join(root, 'pki-')));
    // GIVEN the real etcd, a synthesized EtcdCell of one member
    const etcdChart = testChart();
    new EtcdCell(etcdChart, 'Etcd', { cell: 'global', replicas: 1 });
    etcd = await RealEtcdCluster.start(findObject(Testing.synth(etcdChart), 'StatefulSet', 'etcd-global'), [etcdIp], 30_000);
    // and the cell registered as a cluster registers it: the AddCellInfoJob's command (the cell's
    // data in the global etcd, as CellTopology.global() has it) through a synthesized vtctld
    const chart = testChart();
    const vtctldConstruct = new Vtctld(chart, 'Vtctld', { release, globalTopology, cell: 'test' });
    new AddCellInfoJob(chart, 'AddCellInfo', { vtctld: vtctldConstruct, topology: TopologyServer.fromAddress('test', etcdAddress) });
    const objects = Testing.synth(chart);
    vtctld = await RealDaemon.start('vtctld', root, release, binDir, findObject(objects, 'Deployment', 'vtctld'), 'vtctld', 'grpc');
    const run = vitessInvocations(objects.filter((o) => o.kind === 'Job')).find((i) => i.args.includes('AddCellInfo'));
    if (!run) throw new Error('the AddCellInfoJob runs no AddCellInfo');
    const serverFlag = run.args.find((a) => /^--?server=/.test(a))!;
    const args = run.args.map((a) => (a === serverFlag ? `${serverFlag.split('=')[0]}=127.0.0.1:${vtctld!.ports.grpc}` : a));
    const added = await runProcess(path.join(binDir, run.binary), args, { PATH: process.env.PATH }, 30_000);
    if (added.code !== 0) throw new Error(`${run.binary} ${args.join(' ')} failed (${added.code ?? added.signal}): ${added.stderr}${added.stdout}\n${vtctld.logTail()}`);
    const read = (file: string): string => fs.readFileSync(file, 'utf8');
    const secrets = {
      'vtgate-test-mysql-auth': { 'users.json': JSON.stringify({ [USER]: [{ UserData: USER, Password: PASSWORD }] }) },
      'vtgate-tls': { 'tls.crt': read(pki.serverCert), 'tls.key': read(pki.serverKey) },
      'vtgate-mtls': { 'server.pem': read(pki.serverCert), 'server-key.pem': read(pki.serverKey), 'client-ca.pem': read(pki.clientCa) },
    };
    // WHEN the two vtgates run
    [required, mutual] = await Promise.all([
      RealDaemon.start('required', root, release, binDir, vtgateDeployment({ tls: requiredTls }), 'vtgate', 'mysql', secrets),
      RealDaemon.start('mutual', root, release, binDir, vtgateDeployment({ tls: mutualTls }), 'vtgate', 'mysql', secrets),
    ]);
  }, 150_000);

  afterAll(async () => {
    await Promise.all([required?.stop(), mutual?.stop(), vtctld?.stop()]);
    await etcd?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);

  function running(vtgate: RealDaemon | undefined): RealDaemon {
    if (!vtgate) throw new Error('the vtgates did not start');
    return vtgate;
  }

  test('each runs the synthesized args, with only the mount paths and the three ports mapped', () => {
    const portArgs = [release.flag('port', 15001), release.flag('grpc_port', 15991), release.flag('mysql_server_port', 3306)];
    for (const vtgate of [running(required), running(mutual)]) {
      const changed = vtgate.synthesizedArgs.filter((arg, i) => arg !== vtgate.args[i]);
      expect(vtgate.args).toHaveLength(vtgate.synthesizedArgs.length);
      expect(changed.filter((a) => portArgs.includes(a))).toEqual(portArgs);
      expect(changed.filter((a) => !portArgs.includes(a))).toEqual(vtgate.synthesizedArgs.filter((a) => /=\/vt\/secrets\//.test(a)));
      expect(vtgate.args.join(' ')).not.toMatch(/=\/vt\//);
    }
    const tlsArgs = (vtgate: RealDaemon) => vtgate.synthesizedArgs.filter((a) => /^--?mysql.server.(ssl|tls|require)/.test(a));
    expect(tlsArgs(running(required))).toEqual([
      release.flag('mysql_server_ssl_cert', '/vt/secrets/mysql-tls/tls.crt'),
      release.flag('mysql_server_ssl_key', '/vt/secrets/mysql-tls/tls.key'),
      release.flag('mysql_server_require_secure_transport'),
    ]);
    expect(tlsArgs(running(mutual))).toEqual([
      release.flag('mysql_server_ssl_cert', '/vt/secrets/mysql-tls/tls.crt'),
      release.flag('mysql_server_ssl_key', '/vt/secrets/mysql-tls/tls.key'),
      release.flag('mysql_server_ssl_ca', '/vt/secrets/mysql-tls/ca.crt'),
      ...(hasMinVersion ? [release.flag('mysql_server_tls_min_version', 'TLSv1.3')] : []),
    ]);
  });

  test('a client that verifies the server certificate against its CA connects, and vtgate counts the connection as TLS 1.3', async () => {
    const vtgate = running(required);
    // WHEN a client connects with TLS, checking vtgate's certificate and host name
    const tls = ['--ssl', `--ssl-ca=${pki.serverCa}`, '--ssl-verify-server-cert'];
    const answer = await mariadb(vtgate, tls, 'select 1');
    // THEN
    expect([answer.code, answer.stdout, answer.stderr]).toEqual([0, '1\n', '']);
    // and while such a connection is open, vtgate counts it as a TLS 1.3 connection
    const whileOpen = await whileConnected(vtgate, tls, () => vtgate.connectionsByTlsVersion());
    expect(openConnections(whileOpen)).toEqual({ TLS13: 1 });
    expect(openConnections(await vtgate.connectionsByTlsVersion())).toEqual({});
  }, 60_000);

  test("a client that does not trust the certificate's CA refuses vtgate (the verification is real)", async () => {
    const answer = await mariadb(running(required), ['--ssl', `--ssl-ca=${pki.otherCa}`, '--ssl-verify-server-cert'], 'select 1');
    expect(answer.code).not.toBe(0);
    // OpenSSL's verification error, in the client: vtgate's certificate does not chain to other-ca.
    expect(answer.stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: unable to get local issuer certificate$/m);
  }, 30_000);

  test("with requireSecureTransport, a plaintext connection is refused with vtgate's error", async () => {
    // WHEN the client does not start TLS
    const answer = await mariadb(running(required), ['--skip-ssl'], 'select 1');
    // THEN vtgate answers its handshake with the error (go/mysql/server.go:458-461 at v0.24.4,
    // :350-352 at v0.9.0), which the client reports
    expect(answer.code).toBe(1);
    expect(answer.stdout).toBe('');
    expect(answer.stderr.trim()).toBe(INSECURE_REFUSED);
  }, 30_000);

  test(
    release === VitessRelease.V9_0
      ? 'v9 sends that error but keeps the connection: a client that ignores it logs in without TLS and runs a query'
      : 'that error ends the connection: a client that ignores it gets nothing more',
    async () => {
      // WHEN a client of its own (the MySQL protocol by hand) logs in without TLS and reads on after the error
      const packets = await plaintextLoginIgnoringErrors(running(required).ports.mysql, USER, PASSWORD, 'select 1');
      // THEN the first answer to its login is the refusal (the text as sent ends in a newline, which the MariaDB client drops)
      expect(packets[0]).toEqual({ kind: 'error', code: 1105, message: `${INSECURE_REFUSED.replace(/^ERROR 1105 \(HY000\): /, '')}\n` });
      if (release === VitessRelease.V9_0) {
        // and v9 goes on to check the password and serve the query (no return after the error
        // packet, go/mysql/server.go:350-352 at v0.9.0; vitessio/vitess#8504 added it)
        expect(packets.slice(1).map((p) => p.kind)).toEqual(['ok', 'result']);
        expect(packets[2]).toEqual({ kind: 'result', rows: [['1']] });
        // (the password is checked: a wrong one gets the refusal, then vtgate's access denied)
        const wrong = await plaintextLoginIgnoringErrors(running(required).ports.mysql, USER, 'not-the-password', 'select 1');
        expect(wrong[1]).toMatchObject({ kind: 'error', code: 1045 });
        expect(wrong.some((p) => p.kind === 'ok' || p.kind === 'result')).toBe(false);
      } else {
        // while v24 has closed the connection (the return at go/mysql/server.go:460)
        expect(packets.slice(1)).toEqual([{ kind: 'closed' }]);
      }
    },
    30_000,
  );

  test("without requireSecureTransport, a plaintext connection is admitted (the refusal is the flag's doing)", async () => {
    const answer = await mariadb(running(mutual), ['--skip-ssl'], 'select 1');
    expect([answer.code, answer.stdout]).toEqual([0, '1\n']);
  }, 30_000);

  test('with a client CA, a TLS client must present a certificate signed by it', async () => {
    const vtgate = running(mutual);
    const tls = ['--ssl', `--ssl-ca=${pki.serverCa}`, '--ssl-verify-server-cert'];
    // WHEN a TLS client presents no certificate THEN vtgate ends the handshake
    // (TLS 1.3's certificate_required alert, RFC 8446 section 6.2, sent by vtgate's Go TLS server)
    const without = await mariadb(vtgate, tls, 'select 1');
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: tlsv13 alert certificate required$/m);
    // WHEN it presents one signed by the client CA THEN it is in, over TLS 1.3
    const withCert = [...tls, `--ssl-cert=${pki.clientCert}`, `--ssl-key=${pki.clientKey}`];
    const answer = await mariadb(vtgate, withCert, 'select 1');
    expect([answer.code, answer.stdout, answer.stderr]).toEqual([0, '1\n', '']);
    expect(openConnections(await whileConnected(vtgate, withCert, () => vtgate.connectionsByTlsVersion()))).toEqual({ TLS13: 1 });
    // WHEN it presents vtgate's own certificate, which the client CA did not sign THEN it is refused
    const foreign = await mariadb(vtgate, [...tls, `--ssl-cert=${pki.serverCert}`, `--ssl-key=${pki.serverKey}`], 'select 1');
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: tlsv1 alert unknown ca$/m);
  }, 60_000);

  // (vtgate v9 has no minimum version flag: no such test there)
  const minVersionTest = hasMinVersion ? test : (): void => undefined;
  minVersionTest('with minVersion TLSv1.3, a client limited to TLS 1.2 is refused', async () => {
    const vtgate = running(mutual);
    const tls = ['--ssl', `--ssl-ca=${pki.serverCa}`, '--ssl-verify-server-cert', `--ssl-cert=${pki.clientCert}`, `--ssl-key=${pki.clientKey}`];
    const tls12 = await mariadb(vtgate, [...tls, '--tls-version=TLSv1.2'], 'select 1');
    expect(tls12.code).not.toBe(0);
    expect(tls12.stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: tlsv1 alert protocol version$/m);
    // The same client allowed TLS 1.3 gets in: the refusal is the minimum version's.
    const tls13 = await mariadb(vtgate, [...tls, '--tls-version=TLSv1.3'], 'select 1');
    expect([tls13.code, tls13.stdout]).toEqual([0, '1\n']);
  }, 60_000);
});
