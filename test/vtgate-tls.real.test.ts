// The real vtgate of Vitess v24.0.4 (built by tools/build.sh), run with the container args of
// synthesized Vtgates with `tls`, against a real etcd (a synthesized 1-member EtcdCell, see
// util/real-etcd.ts) and reached with the real MariaDB client over TLS. Needs root (for setpriv
// and the etcd member's mount namespace), openssl and the MariaDB client (`mariadb` or `mysql`,
// Debian's mariadb-client; .ci/run installs it).
//
// What stands in for the pod, as the kubelet would provide it:
// - each volume mount path is a directory of its own: a Secret volume's items are files written
//   there from the Secret's data (made here with openssl), with the Secret volume's default mode
//   0644; the emptyDir /tmp is an empty directory owned by the pod's user;
// - the image's /vt/bin/vtgate is the built vtgate, run as the pod's runAsUser and runAsGroup
//   (vtgate refuses to run as root);
// - the args are the container's args with the mount paths mapped to those directories, and the
//   web, gRPC and MySQL ports moved to free ports (the pod has its own network namespace; this
//   machine's ports are shared), which the test checks are the only args it changes;
// - the cell is registered in the topology with the AddCellInfo command of the library's
//   AddCellInfoJob, run by the real vtctldclient with `--server=internal` (it talks to the topology
//   itself; a cluster runs it against vtctld). vtgate v24 refuses to start without its cell
//   ("cells_to_watch validation failed").
//
// vtgate holds no tablets here, so the proof of encryption is vtgate's own count of connections
// by TLS version, MysqlServerConnCountByTLSVer on /debug/vars (go/mysql/server.go:69, 449-456 and
// 462-463 at v0.24.4), read while the client's connection is open, not the client's `status`
// command: its `select DATABASE(), USER() limit 1` makes this vtgate, which has no keyspace,
// recover from a nil pointer panic and close the connection (getDualTable reads the name of the
// nil keyspace that FirstKeyspace returns without keyspaces: go/vt/vtgate/executorcontext/
// vcursor_impl.go:579-581 and go/vt/vtgate/vindexes/vschema.go:1476 at v0.24.4).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { AddCellInfoJob, EtcdCell, TopologyServer, VitessRelease, Vtctld, Vtgate, VtgateProps, VtgateTlsVersion } from '../lib';
import { RealEtcdCluster, httpGet, runProcess } from './util/real-etcd';
import { container, findObject, testChart } from './util/synth';
import { toolPaths } from './util/tools';
import { vitessInvocations } from './util/vitess-reference';

const RELEASE = VitessRelease.V24_0;
/** The etcd member's loopback address (the etcd real test uses 127.0.0.11 and up). */
const ETCD_IP = '127.0.41.1';
/** The MySQL user of the static auth file. */
const USER = 'app';
const PASSWORD = 'app-password';
/** How long a vtgate may take to open its MySQL port. */
const START_TIMEOUT_MS = 60_000;
/** How long one client run may take. */
const CLIENT_TIMEOUT_MS = 20_000;

/** The vtgate error of a plaintext connection with require_secure_transport (go/mysql/server.go:458-461 at v0.24.4). */
const INSECURE_REFUSED = 'ERROR 1105 (HY000): unknown error: Code: UNAVAILABLE\nserver does not allow insecure connections, client must use SSL/TLS';

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

/** A free TCP port on 127.0.0.1 (free when asked; vtgate then binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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

/** A synthesized vtgate Deployment of cell `test` on `globalAddress`, with `props`. */
function vtgateDeployment(globalAddress: string, props: Partial<VtgateProps>): any {
  const chart = testChart();
  const vtgate = new Vtgate(chart, 'Vtgate', { release: RELEASE, globalTopology: TopologyServer.fromAddress('global', globalAddress), cell: 'test', ...props });
  return findObject(Testing.synth(chart), 'Deployment', vtgate.name);
}

/** The args of the AddCellInfo command of the library's AddCellInfoJob for cell `test` at `cellAddress`. */
function addCellInfoCommand(globalAddress: string, cellAddress: string): string[] {
  const chart = testChart();
  const vtctld = new Vtctld(chart, 'Vtctld', { release: RELEASE, globalTopology: TopologyServer.fromAddress('global', globalAddress), cell: 'test' });
  new AddCellInfoJob(chart, 'AddCellInfo', { vtctld, topology: TopologyServer.fromAddress('test', cellAddress) });
  const job = Testing.synth(chart).find((o) => o.kind === 'Job');
  const run = vitessInvocations([job]).find((i) => i.binary === 'vtctldclient' && i.args.includes('AddCellInfo'));
  if (!run) throw new Error('the AddCellInfoJob runs no vtctldclient AddCellInfo');
  return run.args.slice(run.args.indexOf('AddCellInfo'));
}

/** One vtgate process started from a synthesized Deployment. */
class RealVtgate {
  /**
   * Starts the vtgate of `deployment` with its Secret volumes filled from `secrets` (by Secret name,
   * then key), and waits until its MySQL port accepts connections; throws with its log when it
   * exits or does not open the port within {@link START_TIMEOUT_MS}.
   */
  public static async start(name: string, root: string, deployment: any, secrets: Record<string, Record<string, string>>): Promise<RealVtgate> {
    const ports = { web: await freePort(), grpc: await freePort(), mysql: await freePort() };
    const vtgate = new RealVtgate(name, root, deployment, secrets, ports);
    try {
      await vtgate.waitForMysqlPort();
    } catch (err) {
      await vtgate.stop();
      throw err;
    }
    return vtgate;
  }

  /** The container args as synthesized. */
  public readonly synthesizedArgs: string[];
  /** The args as run. */
  public readonly args: string[];
  /** The directory that stands for each volume mount, by mount path. */
  public readonly mounts: Record<string, string> = {};
  public readonly logFile: string;
  private readonly process: ChildProcess;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    public readonly name: string,
    root: string,
    deployment: any,
    secrets: Record<string, Record<string, string>>,
    public readonly ports: { readonly web: number; readonly grpc: number; readonly mysql: number },
  ) {
    const pod = deployment.spec.template.spec;
    const c = container(deployment, 'vtgate');
    const uid: number = pod.securityContext.runAsUser;
    const gid: number = pod.securityContext.runAsGroup;
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { mode: 0o755 });
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
      this.mounts[mount.mountPath] = volumeDir;
    }
    this.synthesizedArgs = c.args;
    const portFlags: Record<string, number> = { '--port': ports.web, '--grpc-port': ports.grpc, '--mysql-server-port': ports.mysql };
    const byLength = Object.keys(this.mounts).sort((a, b) => b.length - a.length);
    this.args = c.args.map((arg: string) => {
      const [flag, ...rest] = arg.split('=');
      if (flag in portFlags) return `${flag}=${portFlags[flag]}`;
      const value = rest.join('=');
      const mountPath = byLength.find((m) => value.startsWith(`${m}/`));
      return mountPath === undefined ? arg : `${flag}=${this.mounts[mountPath]}${value.slice(mountPath.length)}`;
    });
    const binary = path.join(toolPaths().VITESS_V24_BIN_DIR, path.posix.basename(c.command[0]));
    if (!fs.existsSync(binary)) {
      throw new Error(`${binary} is missing: build it with 'tools/build.sh image-v24' (needs Go and the Go module proxy; .ci/run does it)`);
    }
    this.logFile = path.join(dir, 'log');
    const log = fs.openSync(this.logFile, 'w');
    this.process = spawn('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--pdeathsig=KILL', '--', binary, ...this.args], {
      cwd: dir,
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

  /** Kills vtgate (SIGKILL to its process group) and waits until it is gone, 10 s at most. */
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

  private async waitForMysqlPort(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let attempt = 0; attempt < 600 && Date.now() < deadline; attempt++) {
      if (this.exit !== undefined) throw new Error(`${this.name} exited before it opened its MySQL port\n${this.logTail()}`);
      if (await canConnect(this.ports.mysql)) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not open its MySQL port ${this.ports.mysql} within ${START_TIMEOUT_MS / 1000} s\n${this.logTail()}`);
  }
}

/** The MariaDB client's args to reach `vtgate` as the test user, then `extra`. */
function clientArgs(vtgate: RealVtgate, extra: string[]): string[] {
  return ['--protocol=TCP', '-h', '127.0.0.1', '-P', String(vtgate.ports.mysql), '-u', USER, `--password=${PASSWORD}`, '--connect-timeout=10', ...extra];
}

/** Runs the MariaDB client against `vtgate` with `extra` args and the SQL `query`. */
function mariadb(vtgate: RealVtgate, extra: string[], query: string) {
  return runProcess(mariadbClient(), clientArgs(vtgate, [...extra, '--batch', '--skip-column-names', '-e', query]), { PATH: process.env.PATH }, CLIENT_TIMEOUT_MS);
}

/**
 * Opens a MariaDB client session to `vtgate` with `extra` args, runs `select 1` in it, then calls
 * `whileOpen` while the connection is still open, and ends the session; returns what `whileOpen`
 * returned. Throws with the client's output when `select 1` does not answer within the timeout.
 */
async function whileConnected<T>(vtgate: RealVtgate, extra: string[], whileOpen: () => Promise<T>): Promise<T> {
  const client = spawn(mariadbClient(), clientArgs(vtgate, [...extra, '--batch', '--skip-column-names', '--unbuffered']), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  client.stdout!.on('data', (d) => (out += d));
  client.stderr!.on('data', (d) => (out += d));
  const ended = new Promise<void>((resolve) => client.once('close', () => resolve()));
  try {
    client.stdin!.write('select 1;\n');
    const deadline = Date.now() + CLIENT_TIMEOUT_MS;
    while (!/^1$/m.test(out)) {
      if (client.exitCode !== null || Date.now() > deadline) {
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

describe('vtgate v24 with TLS on its MySQL port, run with the synthesized args', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vtgate-tls-real-'));
  fs.chmodSync(root, 0o755);
  let etcd: RealEtcdCluster | undefined;
  /** TLS with require_secure_transport, from a kubernetes.io/tls Secret (the default keys). */
  let required: RealVtgate | undefined;
  /** TLS with a client CA and TLS 1.3 at least, from a Secret with keys of its own; plaintext admitted. */
  let mutual: RealVtgate | undefined;
  let pki: Pki;

  beforeAll(async () => {
    pki = makePki(fs.mkdtempSync(path.join(root, 'pki-')));
    // GIVEN the real etcd, a synthesized EtcdCell of one member
    const etcdChart = testChart();
    new EtcdCell(etcdChart, 'Etcd', { cell: 'global', replicas: 1 });
    etcd = await RealEtcdCluster.start(findObject(Testing.synth(etcdChart), 'StatefulSet', 'etcd-global'), [ETCD_IP], 30_000);
    const etcdAddress = `${ETCD_IP}:2379`;
    // and the cell registered as the AddCellInfoJob registers it (in the global etcd, as
    // CellTopology.global() does)
    const topologyFlags = vtgateDeployment(etcdAddress, {}).spec.template.spec.containers[0].args.filter((a: string) => a.startsWith('--topo-'));
    const vtctldclient = path.join(toolPaths().VITESS_V24_BIN_DIR, 'vtctldclient');
    const added = await runProcess(
      'setpriv',
      ['--reuid=999', '--regid=999', '--clear-groups', '--', vtctldclient, '--server=internal', ...topologyFlags, ...addCellInfoCommand(etcdAddress, etcdAddress)],
      { PATH: process.env.PATH },
      30_000,
    );
    if (added.code !== 0) throw new Error(`AddCellInfo failed (${added.code ?? added.signal}): ${added.stderr}${added.stdout}`);
    const read = (file: string): string => fs.readFileSync(file, 'utf8');
    const users = JSON.stringify({ [USER]: [{ UserData: USER, Password: PASSWORD }] });
    const secrets = {
      'vtgate-test-mysql-auth': { 'users.json': users },
      'vtgate-tls': { 'tls.crt': read(pki.serverCert), 'tls.key': read(pki.serverKey) },
      'vtgate-mtls': { 'server.pem': read(pki.serverCert), 'server-key.pem': read(pki.serverKey), 'client-ca.pem': read(pki.clientCa) },
    };
    // WHEN the two vtgates run
    [required, mutual] = await Promise.all([
      RealVtgate.start('required', root, vtgateDeployment(etcdAddress, { tls: { secretName: 'vtgate-tls', requireSecureTransport: true } }), secrets),
      RealVtgate.start(
        'mutual',
        root,
        vtgateDeployment(etcdAddress, {
          tls: { secretName: 'vtgate-mtls', certKey: 'server.pem', keyKey: 'server-key.pem', caKey: 'client-ca.pem', minVersion: VtgateTlsVersion.TLS_1_3 },
        }),
        secrets,
      ),
    ]);
  }, 150_000);

  afterAll(async () => {
    await Promise.all([required?.stop(), mutual?.stop()]);
    await etcd?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);

  function running(vtgate: RealVtgate | undefined): RealVtgate {
    if (!vtgate) throw new Error('the vtgates did not start');
    return vtgate;
  }

  test('each runs the synthesized args, with only the mount paths and the three ports mapped', () => {
    for (const vtgate of [running(required), running(mutual)]) {
      const changed = vtgate.synthesizedArgs.filter((arg, i) => arg !== vtgate.args[i]);
      expect(vtgate.args).toHaveLength(vtgate.synthesizedArgs.length);
      expect(changed.filter((a) => /^--(port|grpc-port|mysql-server-port)=/.test(a))).toEqual(['--port=15001', '--grpc-port=15991', '--mysql-server-port=3306']);
      expect(changed.filter((a) => !/^--(port|grpc-port|mysql-server-port)=/.test(a))).toEqual(vtgate.synthesizedArgs.filter((a) => /=\/vt\/secrets\//.test(a)));
      expect(vtgate.args.join(' ')).not.toMatch(/=\/vt\//);
    }
    expect(running(required).synthesizedArgs.filter((a) => /^--mysql-server-(ssl|tls|require)/.test(a))).toEqual([
      '--mysql-server-ssl-cert=/vt/secrets/mysql-tls/tls.crt',
      '--mysql-server-ssl-key=/vt/secrets/mysql-tls/tls.key',
      '--mysql-server-require-secure-transport',
    ]);
    expect(running(mutual).synthesizedArgs.filter((a) => /^--mysql-server-(ssl|tls|require)/.test(a))).toEqual([
      '--mysql-server-ssl-cert=/vt/secrets/mysql-tls/tls.crt',
      '--mysql-server-ssl-key=/vt/secrets/mysql-tls/tls.key',
      '--mysql-server-ssl-ca=/vt/secrets/mysql-tls/ca.crt',
      '--mysql-server-tls-min-version=TLSv1.3',
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

  test('a client that does not trust the certificate\'s CA refuses vtgate (the verification is real)', async () => {
    const answer = await mariadb(running(required), ['--ssl', `--ssl-ca=${pki.otherCa}`, '--ssl-verify-server-cert'], 'select 1');
    expect(answer.code).not.toBe(0);
    // OpenSSL's verification error, in the client: vtgate's certificate does not chain to other-ca.
    expect(answer.stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: unable to get local issuer certificate$/m);
  }, 30_000);

  test('with requireSecureTransport, a plaintext connection is refused with vtgate\'s error', async () => {
    // WHEN the client does not start TLS
    const answer = await mariadb(running(required), ['--skip-ssl'], 'select 1');
    // THEN
    expect(answer.code).toBe(1);
    expect(answer.stdout).toBe('');
    expect(answer.stderr.trim()).toBe(INSECURE_REFUSED);
  }, 30_000);

  test('without requireSecureTransport, a plaintext connection is admitted (the refusal is the flag\'s doing)', async () => {
    const vtgate = running(mutual);
    const answer = await mariadb(vtgate, ['--skip-ssl'], 'select 1');
    expect([answer.code, answer.stdout]).toEqual([0, '1\n']);
  }, 30_000);

  test('with a client CA, a TLS client must present a certificate signed by it', async () => {
    const vtgate = running(mutual);
    const tls = ['--ssl', `--ssl-ca=${pki.serverCa}`, '--ssl-verify-server-cert'];
    // WHEN a TLS client presents no certificate THEN vtgate ends the handshake
    const without = await mariadb(vtgate, tls, 'select 1');
    expect(without.code).not.toBe(0);
    // (TLS 1.3's certificate_required alert, RFC 8446 section 6.2, sent by vtgate's Go TLS server)
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

  test('with minVersion TLSv1.3, a client limited to TLS 1.2 is refused', async () => {
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
