// A real Kubernetes control plane on loopback for the tests: etcd, kube-apiserver and
// kube-controller-manager built from the Go module proxy by tools/build.sh (versions in
// tools/versions.env), and the kubectl of the same release.
//
// Everything listens on 127.0.0.1 only, on ports picked free at start; the certificates, the
// service account keys and the kubeconfig are made at start with openssl in a temporary directory.
// There is no kubelet and no scheduler: a test binds pods to a Node object and sets their status
// through the status subresource, as a node agent would. stop() ends every process (also when a
// start failed half-way) and removes the directory.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProcessResult, runProcess, freePort } from './real-etcd';
import { ControlPlaneBinaries, controlPlaneBinaries } from './tools';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs openssl; throws with its output when it fails. */
function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed (exit ${result.status}): ${result.stderr}`);
  }
}

/** A CA, a serving certificate for 127.0.0.1, client certificates and the service account keys. */
function makeCertificates(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca']);
  const sign = (name: string, subject: string, extensions: string): void => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  sign(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  );
  sign('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  sign('controller-manager', '/CN=system:kube-controller-manager', 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function kubeconfig(dir: string, server: string, user: string): string {
  const file = path.join(dir, `${user}.kubeconfig`);
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority: ${path.join(dir, 'ca.crt')}`,
      'users:',
      `- name: ${user}`,
      '  user:',
      `    client-certificate: ${path.join(dir, `${user}.crt`)}`,
      `    client-key: ${path.join(dir, `${user}.key`)}`,
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      `    user: ${user}`,
      '    namespace: default',
      'current-context: test',
      '',
    ].join('\n'),
  );
  return file;
}

/** A process of the control plane and where its output goes. */
interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  exited: boolean;
}

/** The control plane: etcd, kube-apiserver and kube-controller-manager on 127.0.0.1. */
export class RealKubernetes {
  /**
   * Starts the control plane and waits (at most 120 s) until the API server is ready and the
   * controller manager has created the default namespace's service account.
   */
  public static async start(): Promise<RealKubernetes> {
    const binaries = controlPlaneBinaries();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubernetes-'));
    const cluster = new RealKubernetes(binaries, dir);
    try {
      await cluster.boot();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The admin kubeconfig (system:masters). */
  public kubeconfigFile = '';
  /** The API server's port on 127.0.0.1. */
  public apiserverPort = 0;
  private readonly daemons: Daemon[] = [];

  private constructor(
    public readonly binaries: ControlPlaneBinaries,
    public readonly dir: string,
  ) {}

  /** kubectl with the admin kubeconfig; killed after `timeoutMs`. */
  public kubectl(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
    const env = { ...process.env, KUBECONFIG: this.kubeconfigFile, HOME: this.dir };
    return runProcess(this.binaries.kubectl, args, env, options.timeoutMs ?? 60000, options.input);
  }

  /** kubectl that must succeed; returns its stdout. */
  public async kubectlOk(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.kubectl(args, options);
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
    }
    return result.stdout;
  }

  /** `kubectl get <what> -o json`, parsed. */
  public async getJson(args: string[]): Promise<any> {
    return JSON.parse(await this.kubectlOk(['get', ...args, '-o', 'json']));
  }

  /** Ends every process (SIGTERM, then SIGKILL after 10 s) and removes the directory. */
  public async stop(): Promise<void> {
    for (const daemon of [...this.daemons].reverse()) {
      if (!daemon.exited) {
        daemon.child.kill('SIGTERM');
        for (let i = 0; i < 100 && !daemon.exited; i++) {
          await sleep(100);
        }
        if (!daemon.exited) {
          daemon.child.kill('SIGKILL');
          for (let i = 0; i < 50 && !daemon.exited; i++) {
            await sleep(100);
          }
        }
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines a daemon wrote, for failure messages. */
  public logTail(name: string, lines = 30): string {
    const daemon = this.daemons.find((d) => d.name === name);
    if (!daemon || !fs.existsSync(daemon.log)) return '';
    return fs.readFileSync(daemon.log, 'utf8').split('\n').slice(-lines).join('\n');
  }

  private daemon(name: string, command: string, args: string[]): Daemon {
    const log = path.join(this.dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    // setpriv --pdeathsig: the process dies with the test process, whatever happens to it.
    const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', command, ...args], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const daemon: Daemon = { name, child, log, exited: false };
    child.on('exit', () => (daemon.exited = true));
    this.daemons.push(daemon);
    return daemon;
  }

  /** Waits until `check` holds, at most `timeoutMs`; fails naming `what` and the daemon's log. */
  private async waitUntil(what: string, daemon: Daemon, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10000 && Date.now() < deadline; i++) {
      if (daemon.exited) {
        throw new Error(`${daemon.name} exited while waiting for ${what}:\n${this.logTail(daemon.name)}`);
      }
      if (await check().catch(() => false)) return;
      await sleep(250);
    }
    throw new Error(`gave up after ${timeoutMs / 1000}s waiting for ${what}:\n${this.logTail(daemon.name)}`);
  }

  private async boot(): Promise<void> {
    const dir = this.dir;
    makeCertificates(dir);
    const [etcdClient, etcdPeer, apiserverPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = this.daemon('etcd', this.binaries.etcd, [
      '--name=default',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls=',
    ]);
    await this.waitUntil('etcd to answer', etcd, 30000, async () => {
      const result = await runProcess(this.binaries.etcdctl, [`--endpoints=${etcdUrl}`, 'endpoint', 'health'], process.env, 5000);
      return result.code === 0;
    });

    this.apiserverPort = apiserverPort;
    const server = `https://127.0.0.1:${apiserverPort}`;
    const apiserver = this.daemon('kube-apiserver', this.binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserverPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${path.join(dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${path.join(dir, 'apiserver.key')}`,
      `--client-ca-file=${path.join(dir, 'ca.crt')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      // Addresses the API server allocates to Services; nothing is reached at them.
      '--service-cluster-ip-range=10.96.0.0/16',
      // The Service `kubernetes` would point at 127.0.0.1, which Endpoints refuse; no pod here calls it.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ]);
    this.kubeconfigFile = kubeconfig(dir, server, 'admin');
    await this.waitUntil('kube-apiserver to be ready', apiserver, 90000, async () => {
      const result = await this.kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5000 });
      return result.code === 0 && result.stdout.trim() === 'ok';
    });

    const controllerManager = this.daemon('kube-controller-manager', this.binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfig(dir, server, 'controller-manager')}`,
      `--authentication-kubeconfig=${path.join(dir, 'controller-manager.kubeconfig')}`,
      `--authorization-kubeconfig=${path.join(dir, 'controller-manager.kubeconfig')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
      `--root-ca-file=${path.join(dir, 'ca.crt')}`,
      `--cluster-signing-cert-file=${path.join(dir, 'ca.crt')}`,
      `--cluster-signing-key-file=${path.join(dir, 'ca.key')}`,
      '--controllers=*',
      '--profiling=false',
    ]);
    await this.waitUntil("the default namespace's service account", controllerManager, 60000, async () => {
      const result = await this.kubectl(['get', 'serviceaccount', 'default', '-o', 'name'], { timeoutMs: 5000 });
      return result.code === 0;
    });
  }
}
