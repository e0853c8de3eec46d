// Runs the members of a synthesized etcd StatefulSet as real etcd processes on loopback addresses,
// one address per member, and talks to them with the real etcdctl.
//
// Each member runs its container's `command` and `args` as synthesized. Only what a Kubernetes node
// would provide is supplied from outside:
// - the `$(VAR)` references of the container's `env` are expanded the way the kubelet does, with
//   POD_NAME = `<statefulset>-<ordinal>` and POD_IP = the member's loopback address;
// - the image's binary path is the etcd that tools/build.sh built from the Go module proxy, at the
//   release of the image (tools/versions.env);
// - each volume mount path is a directory of its own per member, so the data directory is a
//   temporary directory; it is group-owned by the pod's fsGroup, as the kubelet makes a volume;
// - the pod DNS names `<pod>.<service>` resolve to the members' addresses through a private
//   /etc/hosts: each member runs in a mount namespace of its own (`unshare --mount`) where a hosts
//   file is bind-mounted over /etc/hosts. This keeps the peer and client URLs exactly as
//   synthesized (etcd resolves and compares them at bootstrap, and publishes them in the member
//   list), which rewriting the names to addresses in the args would not;
// - the process runs as the pod's runAsUser and runAsGroup with the fsGroup as supplementary group
//   (via `setpriv`, which also kills the member when the test process dies).
// Every other arg is passed through unchanged, so a flag the installed etcd does not know fails.
import * as net from 'net';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { controlPlaneBinaries } from './tools';

/** Where the etcd image keeps its binaries, and which built binary each one is. */
const IMAGE_BINARIES: Record<string, 'etcd' | 'etcdctl'> = { '/usr/local/bin/etcd': 'etcd' };

/** The built etcd or etcdctl; throws, saying how to build it, when it is missing. */
export function builtEtcd(binary: 'etcd' | 'etcdctl'): string {
  return controlPlaneBinaries()[binary];
}

/** The single container of a StatefulSet. */
export function onlyContainer(sts: any): any {
  const containers = sts.spec.template.spec.containers;
  if (containers.length !== 1) {
    throw new Error(`StatefulSet/${sts.metadata.name}: expected one container, got ${containers.length}`);
  }
  return containers[0];
}

/** The StatefulSets among `objects` whose container runs etcd. */
export function etcdStatefulSets(objects: any[]): any[] {
  return objects.filter(
    (o) =>
      o.kind === 'StatefulSet' &&
      o.spec.template.spec.containers.some((c: any) => path.posix.basename(c.command?.[0] ?? '') === 'etcd'),
  );
}

/**
 * Expands `$(VAR)` references the way Kubernetes does for `command` and `args`: a reference to a
 * defined variable is replaced, `$$` is a literal `$`, and any other reference stays as it is.
 */
export function expandKubernetesVars(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : match;
  });
}

/** The result of a finished process. */
export interface ProcessResult {
  /** The exit code; null when a signal ended the process. */
  readonly code: number | null;
  /** The signal that ended the process, if any. */
  readonly signal: NodeJS.Signals | null;
  /** Everything written to stdout. */
  readonly stdout: string;
  /** Everything written to stderr. */
  readonly stderr: string;
}

/**
 * Runs a command to its end (killed after `timeoutMs`) and collects its output; `input`, when
 * given, is its standard input.
 */
/** A free TCP port on `ip` (free when asked; the caller's server then binds it). */
export function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, ip, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, input?: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) {
      child.stdin!.end(input);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    };
    child.on('error', (err) => {
      clearTimeout(timer);
      settled = true;
      reject(err);
    });
    child.on('close', finish);
    // A grandchild that inherited the pipes (a process that `runc exec` started in a container,
    // say) can keep them open after the command itself has ended: its output is then taken as
    // it is 2 s after the exit.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        if (settled) return;
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(code, signal);
      }, 2000).unref();
    });
  });
}

/** The answer to an HTTP GET. */
export interface HttpAnswer {
  /** The status code. */
  readonly status: number;
  /** The body. */
  readonly body: string;
}

/** An HTTP GET of `http://<host>:<port><path>`, as a kubelet's httpGet probe sends it. */
export function httpGet(host: string, port: number, urlPath: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: urlPath, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${urlPath} timed out`)));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One running member of a {@link RealEtcdCluster}. */
export interface RealEtcdMember {
  /** The pod name, `<statefulset>-<ordinal>`. */
  readonly podName: string;
  /** The pod DNS name, `<pod>.<service>`. */
  readonly dnsName: string;
  /** The member's loopback address (its POD_IP). */
  readonly ip: string;
  /** The command line as run: the local binary, then the expanded args. */
  readonly commandLine: string[];
  /** The directory that stands for each volume mount, by mount path. */
  readonly volumes: Record<string, string>;
  /** The file that receives the member's stdout and stderr. */
  readonly logFile: string;
  /** The process. */
  readonly process: ChildProcess;
  /** How the process ended; undefined while it runs. */
  exit?: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
}

/** The numeric value of a container port given by number or by name. */
export function containerPort(container: any, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p: any) => p.name === port);
  if (!named) throw new Error(`container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

/** The members of one synthesized etcd StatefulSet, running as real etcd processes. */
export class RealEtcdCluster {
  /**
   * Starts every member of `sts` at once (its podManagementPolicy is Parallel), member i on
   * `ips[i]`, and waits until each answers its readiness probe. Throws with the members' logs when
   * a member exits or the cluster is not ready within `timeoutMs`; nothing is left running then.
   */
  public static async start(sts: any, ips: string[], timeoutMs: number): Promise<RealEtcdCluster> {
    const cluster = new RealEtcdCluster(sts, ips);
    try {
      await cluster.waitReady(timeoutMs);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The StatefulSet name. */
  public readonly name: string;
  /** The etcd container as synthesized. */
  public readonly container: any;
  /** The members, by ordinal. */
  public readonly members: RealEtcdMember[];
  private readonly root: string;
  private readonly etcdctlPath: string;

  private constructor(sts: any, ips: string[]) {
    this.name = sts.metadata.name;
    if (sts.spec.podManagementPolicy !== 'Parallel') {
      throw new Error(
        `StatefulSet/${this.name}: podManagementPolicy is ${sts.spec.podManagementPolicy}, so the members would start one ` +
          'by one; only Parallel is run here (all members start together)',
      );
    }
    this.container = onlyContainer(sts);
    const replicas: number = sts.spec.replicas;
    if (ips.length !== replicas) {
      throw new Error(`StatefulSet/${this.name} has ${replicas} replicas, got ${ips.length} addresses`);
    }
    this.etcdctlPath = builtEtcd('etcdctl');
    const [imageBinary, ...restOfCommand] = this.container.command;
    const localName = IMAGE_BINARIES[imageBinary];
    if (!localName) {
      throw new Error(`StatefulSet/${this.name}: unknown image binary ${imageBinary}; known: ${Object.keys(IMAGE_BINARIES).join(', ')}`);
    }
    const binary = builtEtcd(localName);

    const pod = sts.spec.template.spec;
    const uid: number | undefined = this.container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    const gid: number | undefined = this.container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup;
    const fsGroup: number | undefined = pod.securityContext?.fsGroup;
    const claims = new Set((sts.spec.volumeClaimTemplates ?? []).map((c: any) => c.metadata.name));
    const mounts: { name: string; mountPath: string }[] = this.container.volumeMounts ?? [];
    for (const mount of mounts) {
      if (!claims.has(mount.name)) {
        throw new Error(`StatefulSet/${this.name}: volume mount ${mount.name} is not a volumeClaimTemplate; only claims are supported here`);
      }
    }

    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `real-${this.name}-`));
    fs.chmodSync(this.root, 0o755);
    const dnsNames = ips.map((_, i) => `${this.name}-${i}.${sts.spec.serviceName}`);
    const hostsFile = path.join(this.root, 'hosts');
    fs.writeFileSync(
      hostsFile,
      ['127.0.0.1 localhost', '::1 localhost', ...ips.map((ip, i) => `${ip} ${dnsNames[i]}`)].join('\n') + '\n',
    );
    fs.chmodSync(hostsFile, 0o644);

    this.members = [];
    try {
      for (const [i, ip] of ips.entries()) {
        const podName = `${this.name}-${i}`;
        const memberDir = path.join(this.root, podName);
        fs.mkdirSync(memberDir, { mode: 0o755 });
        const volumes: Record<string, string> = {};
        for (const mount of mounts) {
          const dir = path.join(memberDir, mount.name);
          fs.mkdirSync(dir);
          // A fresh volume: owned by root; with an fsGroup, group-owned by it, setgid and writable.
          if (fsGroup !== undefined) {
            fs.chownSync(dir, 0, fsGroup);
            fs.chmodSync(dir, 0o2770);
          } else {
            fs.chmodSync(dir, 0o755);
          }
          volumes[mount.mountPath] = dir;
        }
        const env = this.containerEnv(podName, ip);
        const args = [...restOfCommand, ...(this.container.args ?? [])].map((a: string) =>
          mapVolumePaths(expandKubernetesVars(a, env), volumes),
        );
        const dataDir = args.find((a) => a.startsWith('--data-dir='));
        if (!dataDir || !Object.values(volumes).some((dir) => dataDir === `--data-dir=${dir}` || dataDir.startsWith(`--data-dir=${dir}/`))) {
          throw new Error(`StatefulSet/${this.name}: etcd's --data-dir must be under a volume mount (the root filesystem is read-only), got ${dataDir}`);
        }
        const commandLine = [binary, ...args];
        const logFile = path.join(memberDir, 'log');
        const log = fs.openSync(logFile, 'w');
        const credentials = [
          ...(uid !== undefined ? [`--reuid=${uid}`] : []),
          ...(gid !== undefined ? [`--regid=${gid}`] : []),
          ...(fsGroup !== undefined ? [`--groups=${fsGroup}`] : uid !== undefined ? ['--clear-groups'] : []),
        ];
        // unshare, sh, setpriv and etcd exec one another: the child's pid is the etcd process.
        const child = spawn(
          'unshare',
          [
            '--mount',
            '--',
            'sh',
            '-c',
            'mount --bind "$1" /etc/hosts && shift && exec "$@"',
            'sh',
            hostsFile,
            'setpriv',
            ...credentials,
            '--pdeathsig=KILL',
            '--',
            ...commandLine,
          ],
          { cwd: memberDir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', log, log], detached: true },
        );
        fs.closeSync(log);
        const member: RealEtcdMember = { podName, dnsName: dnsNames[i], ip, commandLine, volumes, logFile, process: child };
        child.on('exit', (code, signal) => (member.exit = { code, signal }));
        child.on('error', (err) => fs.appendFileSync(logFile, `\nspawn failed: ${err.message}\n`));
        this.members.push(member);
      }
    } catch (err) {
      void this.stop();
      throw err;
    }
  }

  /** The client URL of each member by address, as a client inside the pod network would use. */
  public clientUrl(member: RealEtcdMember): string {
    return `http://${member.ip}:${containerPort(this.container, 'client')}`;
  }

  /** The members still running. */
  public get running(): RealEtcdMember[] {
    return this.members.filter((m) => m.exit === undefined);
  }

  /**
   * Runs etcdctl (API v3) against `members`' client URLs, giving up on the request after
   * `commandTimeoutSeconds`; returns its stdout, and throws with its output when it fails.
   */
  public async etcdctl(members: RealEtcdMember[], args: string[], commandTimeoutSeconds = 5): Promise<string> {
    const result = await runProcess(
      this.etcdctlPath,
      [
        `--endpoints=${members.map((m) => this.clientUrl(m)).join(',')}`,
        '--dial-timeout=2s',
        `--command-timeout=${commandTimeoutSeconds}s`,
        ...args,
      ],
      { PATH: process.env.PATH, ETCDCTL_API: '3' },
      15_000,
    );
    if (result.code !== 0) {
      throw new Error(`etcdctl ${args.join(' ')} exited with ${result.code ?? result.signal}: ${result.stderr}${result.stdout}`);
    }
    return result.stdout;
  }

  /** The readiness probe of the container (httpGet), sent to `member` as the kubelet sends it. */
  public probe(member: RealEtcdMember): Promise<HttpAnswer> {
    const httpProbe = this.container.readinessProbe?.httpGet;
    if (!httpProbe) throw new Error(`StatefulSet/${this.name}: the etcd container has no httpGet readinessProbe`);
    if ((httpProbe.scheme ?? 'HTTP') !== 'HTTP') throw new Error(`unsupported probe scheme ${httpProbe.scheme}`);
    return httpGet(httpProbe.host ?? member.ip, containerPort(this.container, httpProbe.port), httpProbe.path, 2_000);
  }

  /** Kills `member` with SIGKILL and waits until it is gone; returns the signal it died of. */
  public async kill(member: RealEtcdMember): Promise<NodeJS.Signals | null> {
    if (member.exit === undefined) {
      const exited = new Promise<void>((resolve) => member.process.once('exit', () => resolve()));
      process.kill(-member.process.pid!, 'SIGKILL');
      await exited;
    }
    return member.exit!.signal;
  }

  /** Kills every member still running and removes the temporary directories. */
  public async stop(): Promise<void> {
    for (const member of this.members) {
      try {
        await this.kill(member);
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** The members' logs, for failure messages. */
  public logs(): string {
    return this.members
      .map((m) => {
        const text = fs.existsSync(m.logFile) ? fs.readFileSync(m.logFile, 'utf8') : '';
        const exit = m.exit ? `exited (${m.exit.code ?? m.exit.signal})` : 'running';
        return `--- ${m.podName} on ${m.ip}, ${exit}: ${m.commandLine.join(' ')}\n${text.split('\n').slice(-25).join('\n')}`;
      })
      .join('\n');
  }

  /** The container's environment for one member, from its `env` (values and the fields used). */
  private containerEnv(podName: string, ip: string): Record<string, string> {
    const fields: Record<string, string> = { 'metadata.name': podName, 'status.podIP': ip };
    const env: Record<string, string> = {};
    for (const variable of this.container.env ?? []) {
      if (variable.value !== undefined) {
        env[variable.name] = expandKubernetesVars(variable.value, env);
      } else if (variable.valueFrom?.fieldRef && fields[variable.valueFrom.fieldRef.fieldPath] !== undefined) {
        env[variable.name] = fields[variable.valueFrom.fieldRef.fieldPath];
      } else {
        throw new Error(`StatefulSet/${this.name}: env ${variable.name} is not supported here: ${JSON.stringify(variable)}`);
      }
    }
    return env;
  }

  /** Waits until every member answers its readiness probe with 200; fails early when one exits. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const exited = this.members.filter((m) => m.exit !== undefined);
      if (exited.length > 0) {
        throw new Error(`StatefulSet/${this.name}: ${exited.map((m) => m.podName).join(', ')} exited during startup\n${this.logs()}`);
      }
      const answers = await Promise.all(
        this.members.map((m) =>
          this.probe(m).then(
            (a) => `${a.status} ${a.body}`,
            (err: Error) => err.message,
          ),
        ),
      );
      if (answers.every((a) => a.startsWith('200 '))) return;
      last = answers.join('; ');
      await sleep(200);
    }
    throw new Error(`StatefulSet/${this.name}: not ready within ${timeoutMs} ms (last probes: ${last})\n${this.logs()}`);
  }
}

/** `arg` with a volume mount path (alone or as a flag value) replaced by the member's directory. */
function mapVolumePaths(arg: string, volumes: Record<string, string>): string {
  for (const [mountPath, dir] of Object.entries(volumes)) {
    const match = arg.match(/^(--?[A-Za-z0-9-_]+=)?(.*)$/)!;
    const prefix = match[1] ?? '';
    const value = match[2];
    if (value === mountPath || value.startsWith(`${mountPath}/`)) {
      return `${prefix}${dir}${value.slice(mountPath.length)}`;
    }
  }
  return arg;
}
