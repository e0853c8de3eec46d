// Runs the pods of synthesized manifests on this machine, as a kubelet would, for the real-Vitess
// end-to-end test: every pod gets a network namespace of its own (ip netns, a veth on one test
// bridge, an address in 10.244.0.0/16 that only this test uses), every container is an OCI
// container run by runc from Debian, on the root filesystem that models its image, with the
// container's own command, args, env (downward API resolved), working directory, user and volume
// mounts. Volumes are folders: emptyDir per pod, one folder per PersistentVolumeClaim (kept when
// the pod goes, as a StatefulSet's claims are), one shared folder per NFS export, Secrets written
// from the test's own data.
//
// What a kubelet does and this does not: no cgroups (no resource limits), no liveness probes (a
// container is restarted only when it exits), no Service environment variables, no NetworkPolicy,
// and a Service name resolves through /etc/hosts to the addresses of its ready endpoints (every
// Service here has port = targetPort), not to a virtual IP.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { containerPort, expandKubernetesVars, httpGet, runProcess } from './real-etcd';

/** A Kubernetes object as parsed from YAML. */
export type KubeObject = any;

/** The root filesystem and configuration of one container image. */
export interface ImageModel {
  /** The image reference the manifests name, e.g. `vitess/lite:v24.0.4`. */
  readonly image: string;
  /** The folder that is the image's root filesystem (never written: containers get an overlay). */
  readonly rootfs: string;
  /** The image's environment (`ENV`), as `NAME=value` pairs. */
  readonly env: Readonly<Record<string, string>>;
  /** The image's working directory (`WORKDIR`). */
  readonly workingDir: string;
  /** The image's user (`USER`), as numbers. */
  readonly uid: number;
  readonly gid: number;
}

/** Options of a {@link PodRuntime}. */
export interface PodRuntimeOptions {
  /** A fresh folder for everything this run makes (bundles, volumes, logs). */
  readonly workDir: string;
  /** The images the pods may name. */
  readonly images: readonly ImageModel[];
  /** The namespace the pods are "in" (`metadata.namespace`, DNS names). */
  readonly namespace: string;
  /** Secrets the pods may mount or read, by name: data key to content. */
  readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Prefix of network namespaces, links and runc container ids; unique per run. */
  readonly prefix: string;
  /** Longest grace period used when stopping a pod. @default 60 */
  readonly maxGraceSeconds?: number;
}

const CLUSTER_DOMAIN = 'cluster.local';
const SUBNET = '10.244';
const BRIDGE_ADDRESS = `${SUBNET}.0.1`;
const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Runs a command to completion; throws with its output when it fails (unless `allowFail`). */
export function run(command: string, args: readonly string[], allowFail = false): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (!allowFail && result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One container of a pod, and its restarts. */
class Container {
  public process: ChildProcess | undefined;
  public exited: Promise<number> = Promise.resolve(0);
  public restarts = 0;
  public lastExitCode: number | undefined;
  public ready = false;
  /** When the readiness probe runs next (ms since the epoch), and its failures in a row. */
  public probeAt = 0;
  public probeFailures = 0;
  /** Whether a probe of this container is under way (each container's probes never overlap). */
  public probing = false;
  /** How the last probe ended, for the failure report. */
  public lastProbe = '';
  public readonly logFile: string;
  public runId = '';
  /** Where runc writes the PID of the container's init, for the current run. */
  public pidFile = '';

  public constructor(public readonly pod: Pod, public readonly spec: KubeObject, public readonly init: boolean) {
    this.logFile = path.join(pod.dir, `${spec.name}.log`);
  }
}

/** The phase of a {@link Pod}. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Deleted';

/** One pod, running. */
export class Pod {
  public phase: PodPhase = 'Pending';
  public readonly containers: Container[] = [];
  public readonly dir: string;
  public readonly netns: string;
  public stopping = false;
  public readonly done: Promise<PodPhase>;
  private resolveDone!: (phase: PodPhase) => void;

  public constructor(
    public readonly runtime: PodRuntime,
    public readonly name: string,
    public readonly labels: Readonly<Record<string, string>>,
    public readonly spec: KubeObject,
    public readonly ip: string,
    public readonly index: number,
    /** Claim name to folder, for the pod's PersistentVolumeClaims. */
    public readonly claims: Readonly<Record<string, string>>,
  ) {
    this.dir = path.join(runtime.options.workDir, 'pods', name);
    this.netns = `${runtime.options.prefix}-${index}`;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Whether every container is ready (readiness probe passing, or running without one). */
  public get ready(): boolean {
    return this.phase === 'Running' && this.containers.filter((c) => !c.init).every((c) => c.ready);
  }

  /** The last lines of every container's log. */
  public logTail(lines = 30): string {
    return this.containers
      .map((c) => {
        const text = fs.existsSync(c.logFile) ? fs.readFileSync(c.logFile, 'utf8') : '';
        return `--- ${this.name}/${c.spec.name} (restarts ${c.restarts}, last exit ${c.lastExitCode ?? '-'}):\n${text.split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** The whole log of one container. */
  public log(container: string): string {
    const c = this.containers.find((x) => x.spec.name === container);
    return c && fs.existsSync(c.logFile) ? fs.readFileSync(c.logFile, 'utf8') : '';
  }

  public finish(phase: PodPhase): void {
    if (this.phase === 'Succeeded' || this.phase === 'Failed' || this.phase === 'Deleted') return;
    this.phase = phase;
    this.resolveDone(phase);
  }
}

/**
 * Pods on this machine: see the file's comment.
 */
export class PodRuntime {
  public readonly pods: Pod[] = [];
  private nextIndex = 2;
  private readonly bridge: string;
  private readonly runcRoot: string;
  private readonly hostsFile: string;
  private readonly services: KubeObject[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  public constructor(public readonly options: PodRuntimeOptions) {
    this.bridge = `${options.prefix}br`;
    this.runcRoot = path.join(options.workDir, 'runc');
    this.hostsFile = path.join(options.workDir, 'hosts');
  }

  /** Makes the test bridge; call {@link stop} in a finally block. */
  public start(): void {
    fs.mkdirSync(this.runcRoot, { recursive: true });
    fs.mkdirSync(path.join(this.options.workDir, 'pods'), { recursive: true });
    fs.writeFileSync(this.hostsFile, '127.0.0.1 localhost\n');
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${BRIDGE_ADDRESS}/16`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    this.probeTimer = setInterval(() => this.probeAll(), 1000);
  }

  /** Adds a Service: its names resolve to its endpoints from now on. */
  public addService(service: KubeObject): void {
    this.services.push(service);
    this.writeHosts();
  }

  /** The addresses a Service name resolves to now. */
  public endpoints(serviceName: string): string[] {
    const service = this.services.find((s) => s.metadata.name === serviceName);
    if (!service) return [];
    const notReady = service.spec.publishNotReadyAddresses === true;
    return this.selectPods(service.spec.selector ?? {})
      .filter((p) => p.phase === 'Running' && (notReady || p.ready))
      .map((p) => p.ip);
  }

  /** The live pods whose labels match `selector`. */
  public selectPods(selector: Readonly<Record<string, string>>): Pod[] {
    return this.pods.filter(
      (p) => p.phase !== 'Deleted' && Object.entries(selector).every(([k, v]) => p.labels[k] === v),
    );
  }

  /** The live pod of this name, if any. */
  public pod(name: string): Pod | undefined {
    return this.pods.find((p) => p.name === name && p.phase !== 'Deleted');
  }

  /**
   * Starts a pod: network, volumes, init containers one after the other, then every container.
   * `claims` maps each PersistentVolumeClaim name of the pod's volumes to its folder.
   */
  public startPod(name: string, labels: Record<string, string>, spec: KubeObject, claims: Record<string, string> = {}): Pod {
    if (this.stopped) throw new Error(`pod runtime stopped: cannot start ${name}`);
    const index = this.nextIndex++;
    if (index > 250 * 250) throw new Error('out of pod addresses');
    const ip = `${SUBNET}.${Math.floor(index / 250)}.${(index % 250) + 2}`;
    const pod = new Pod(this, name, labels, spec, ip, index, claims);
    fs.rmSync(pod.dir, { recursive: true, force: true });
    fs.mkdirSync(pod.dir, { recursive: true });
    this.pods.push(pod);
    this.setUpNetwork(pod);
    this.writeHosts();
    void this.runPod(pod).catch((err) => {
      fs.appendFileSync(path.join(pod.dir, 'runtime.log'), `${String(err?.stack ?? err)}\n`);
      pod.finish('Failed');
    });
    return pod;
  }

  /** Deletes a pod as `kubectl delete pod` does: preStop hooks, TERM, grace, KILL. */
  public async deletePod(pod: Pod): Promise<void> {
    if (pod.phase === 'Deleted') return;
    pod.stopping = true;
    const grace = Math.min(pod.spec.terminationGracePeriodSeconds ?? 30, this.options.maxGraceSeconds ?? 60);
    await Promise.all(pod.containers.filter((c) => c.process && c.process.exitCode === null).map((c) => this.stopContainer(c, grace)));
    this.tearDownPod(pod);
    pod.finish('Deleted');
    pod.phase = 'Deleted';
    this.writeHosts();
  }

  /** Runs a command in a running container (`kubectl exec`); resolves to its exit code and output. */
  public exec(pod: Pod, container: string, command: readonly string[], timeoutSeconds: number): Promise<{ code: number; output: string }> {
    const c = pod.containers.find((x) => x.spec.name === container && !x.init);
    if (!c || !c.process || c.process.exitCode !== null) return Promise.resolve({ code: -1, output: 'container not running' });
    return runProcess('runc', ['--root', this.runcRoot, 'exec', c.runId, ...command], process.env, timeoutSeconds * 1000).then(
      (result) => ({ code: result.code ?? -1, output: result.stdout + result.stderr }),
      (err) => ({ code: -1, output: String(err) }),
    );
  }

  /** Stops every pod and removes every namespace, link and container this runtime made. */
  public async stop(): Promise<void> {
    this.stopped = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    await Promise.all(this.pods.filter((p) => p.phase !== 'Deleted').map((p) => this.deletePod(p).catch(() => undefined)));
    // Whatever is left (a crash of this process's logic, not of the containers).
    for (const line of run('runc', ['--root', this.runcRoot, 'list', '-q'], true).split('\n').filter(Boolean)) {
      run('runc', ['--root', this.runcRoot, 'delete', '--force', line], true);
    }
    for (const line of run('ip', ['netns', 'list'], true).split('\n')) {
      const ns = line.split(' ')[0];
      if (ns.startsWith(`${this.options.prefix}-`)) run('ip', ['netns', 'delete', ns], true);
    }
    run('ip', ['link', 'delete', this.bridge], true);
    unmountUnder(this.options.workDir);
  }

  private setUpNetwork(pod: Pod): void {
    const host = `${this.options.prefix}h${pod.index}`;
    const peer = `${this.options.prefix}p${pod.index}`;
    run('ip', ['netns', 'add', pod.netns]);
    run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    run('ip', ['link', 'set', host, 'master', this.bridge]);
    run('ip', ['link', 'set', host, 'up']);
    run('ip', ['link', 'set', peer, 'netns', pod.netns]);
    const inNs = (...args: string[]) => run('ip', ['netns', 'exec', pod.netns, 'ip', ...args]);
    inNs('link', 'set', 'lo', 'up');
    inNs('link', 'set', peer, 'name', 'eth0');
    inNs('addr', 'add', `${pod.ip}/16`, 'dev', 'eth0');
    inNs('link', 'set', 'eth0', 'up');
    // Only the test subnet is routed: a pod can reach nothing but other test pods.
  }

  private tearDownPod(pod: Pod): void {
    for (const c of pod.containers) {
      if (c.runId) run('runc', ['--root', this.runcRoot, 'delete', '--force', c.runId], true);
    }
    unmountUnder(pod.dir);
    run('ip', ['netns', 'delete', pod.netns], true);
  }

  /** Writes /etc/hosts of every pod (one file, bind-mounted, rewritten in place). */
  private writeHosts(): void {
    const ns = this.options.namespace;
    const lines = ['127.0.0.1 localhost'];
    for (const pod of this.pods.filter((p) => p.phase !== 'Deleted')) {
      const names = [pod.name];
      if (pod.spec.subdomain) {
        const fq = `${pod.spec.hostname ?? pod.name}.${pod.spec.subdomain}`;
        names.push(`${fq}.${ns}.svc.${CLUSTER_DOMAIN}`, `${fq}.${ns}.svc`, `${fq}.${ns}`, fq);
      }
      lines.push(`${pod.ip} ${names.join(' ')}`);
    }
    for (const service of this.services) {
      const name = service.metadata.name;
      for (const ip of this.endpoints(name)) {
        lines.push(`${ip} ${name}.${ns}.svc.${CLUSTER_DOMAIN} ${name}.${ns}.svc ${name}.${ns} ${name}`);
      }
    }
    const text = lines.join('\n') + '\n';
    if (fs.existsSync(this.hostsFile) && fs.readFileSync(this.hostsFile, 'utf8') === text) return;
    // In place (same inode): every container has this file bind-mounted as its /etc/hosts.
    fs.writeFileSync(this.hostsFile, text);
  }

  private image(name: string): ImageModel {
    const image = this.options.images.find((i) => i.image === name);
    if (!image) throw new Error(`no model of image '${name}'; known: ${this.options.images.map((i) => i.image).join(', ')}`);
    return image;
  }

  /** Volume name to host folder (and whether read-only) for a pod, making each once. */
  private volumeDir(pod: Pod, volume: KubeObject): string {
    const dir = path.join(pod.dir, 'volumes', volume.name);
    const fsGroup: number | undefined = pod.spec.securityContext?.fsGroup;
    const own = (d: string) => {
      if (fsGroup !== undefined) {
        fs.chownSync(d, 0, fsGroup);
        fs.chmodSync(d, 0o2775);
      }
    };
    if (volume.emptyDir) {
      if (!fs.existsSync(dir)) {
        fs.mkdirSync(dir, { recursive: true });
        own(dir);
      }
      return dir;
    }
    if (volume.persistentVolumeClaim) {
      const claimDir = pod.claims[volume.persistentVolumeClaim.claimName];
      if (!claimDir) throw new Error(`pod ${pod.name}: no folder for claim ${volume.persistentVolumeClaim.claimName}`);
      if (!fs.existsSync(claimDir)) fs.mkdirSync(claimDir, { recursive: true });
      own(claimDir);
      return claimDir;
    }
    if (volume.nfs) {
      const share = path.join(this.options.workDir, 'nfs', volume.nfs.server, volume.nfs.path);
      if (!fs.existsSync(share)) {
        fs.mkdirSync(share, { recursive: true });
        // The README asks for an export writable by UID 999.
        fs.chownSync(share, 999, 999);
      }
      return share;
    }
    if (volume.secret) {
      const data = this.options.secrets[volume.secret.secretName];
      if (!data) throw new Error(`pod ${pod.name}: Secret '${volume.secret.secretName}' does not exist`);
      fs.mkdirSync(dir, { recursive: true });
      const items: { key: string; path: string }[] = volume.secret.items ?? Object.keys(data).map((k) => ({ key: k, path: k }));
      for (const item of items) {
        if (!(item.key in data)) throw new Error(`pod ${pod.name}: Secret '${volume.secret.secretName}' has no key '${item.key}'`);
        fs.writeFileSync(path.join(dir, item.path), data[item.key], { mode: 0o644 });
        if (fsGroup !== undefined) fs.chownSync(path.join(dir, item.path), 0, fsGroup);
      }
      return dir;
    }
    throw new Error(`pod ${pod.name}: volume '${volume.name}' of a kind this runtime does not model: ${JSON.stringify(volume)}`);
  }

  private resolveEnv(pod: Pod, c: KubeObject, image: ImageModel): Record<string, string> {
    const env: Record<string, string> = { ...image.env, HOSTNAME: pod.name };
    for (const e of c.env ?? []) {
      if (e.value !== undefined) {
        env[e.name] = expandKubernetesVars(e.value, env);
      } else if (e.valueFrom?.fieldRef) {
        const field: string = e.valueFrom.fieldRef.fieldPath;
        const values: Record<string, string> = {
          'metadata.name': pod.name,
          'metadata.namespace': this.options.namespace,
          'status.podIP': pod.ip,
          'spec.nodeName': 'e2e-node',
        };
        if (!(field in values)) throw new Error(`pod ${pod.name}: fieldRef ${field} not modelled`);
        env[e.name] = values[field];
      } else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const value = this.options.secrets[ref.name]?.[ref.key];
        if (value === undefined) {
          if (ref.optional) continue;
          throw new Error(`pod ${pod.name}: Secret key ${ref.name}/${ref.key} does not exist`);
        }
        env[e.name] = value;
      } else {
        throw new Error(`pod ${pod.name}: env ${e.name} of a kind this runtime does not model`);
      }
    }
    return env;
  }

  /** Writes the OCI bundle of one container run; returns its folder. */
  private bundle(pod: Pod, container: Container): string {
    const c = container.spec;
    const image = this.image(c.image);
    const runDir = path.join(pod.dir, 'containers', `${c.name}-${container.restarts}`);
    const upper = path.join(runDir, 'upper');
    const work = path.join(runDir, 'work');
    const rootfs = path.join(runDir, 'rootfs');
    for (const d of [upper, work, rootfs]) fs.mkdirSync(d, { recursive: true });
    // The image is never written: each container gets its own writable layer, as with a runtime.
    run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${image.rootfs},upperdir=${upper},workdir=${work}`, rootfs]);
    const env = this.resolveEnv(pod, c, image);
    const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a: string) => expandKubernetesVars(a, env));
    if (argv.length === 0) throw new Error(`pod ${pod.name}: container ${c.name} has no command (image CMD not modelled)`);
    const podSec = pod.spec.securityContext ?? {};
    const sec = c.securityContext ?? {};
    const uid: number = sec.runAsUser ?? podSec.runAsUser ?? image.uid;
    const gid: number = sec.runAsGroup ?? podSec.runAsGroup ?? image.gid;
    if ((sec.runAsNonRoot ?? podSec.runAsNonRoot) && uid === 0) throw new Error(`pod ${pod.name}: runAsNonRoot but uid 0`);
    const dropAll = (sec.capabilities?.drop ?? []).includes('ALL');
    const caps = dropAll ? [] : DEFAULT_CAPABILITIES;
    const capSet = uid === 0 ? caps : [];
    const etcFiles: [string, string][] = [['/etc/hosts', this.hostsFile]];
    const hostnameFile = path.join(pod.dir, 'hostname');
    fs.writeFileSync(hostnameFile, `${hostnameOf(pod.name)}\n`);
    const resolvFile = path.join(pod.dir, 'resolv.conf');
    // No DNS server: names resolve through /etc/hosts only.
    fs.writeFileSync(resolvFile, `search ${this.options.namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\noptions ndots:5\n`);
    etcFiles.push(['/etc/hostname', hostnameFile], ['/etc/resolv.conf', resolvFile]);
    const mounts: KubeObject[] = [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...etcFiles.map(([destination, source]) => ({ destination, type: 'bind', source, options: ['bind', 'ro'] })),
    ];
    for (const m of c.volumeMounts ?? []) {
      const volume = (pod.spec.volumes ?? []).find((v: KubeObject) => v.name === m.name);
      if (!volume) throw new Error(`pod ${pod.name}: container ${c.name} mounts unknown volume ${m.name}`);
      let source = this.volumeDir(pod, volume);
      if (m.subPath) source = path.join(source, m.subPath);
      const readOnly = m.readOnly === true || volume.secret !== undefined;
      mounts.push({ destination: m.mountPath, type: 'bind', source, options: ['rbind', readOnly ? 'ro' : 'rw'] });
    }
    const config = {
      ociVersion: '1.0.2',
      process: {
        terminal: false,
        user: { uid, gid, additionalGids: podSec.fsGroup !== undefined ? [podSec.fsGroup] : [] },
        args: argv,
        env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        cwd: c.workingDir ?? image.workingDir,
        capabilities: { bounding: caps, effective: capSet, permitted: capSet, inheritable: [], ambient: [] },
        noNewPrivileges: sec.allowPrivilegeEscalation === false,
      },
      root: { path: rootfs, readonly: sec.readOnlyRootFilesystem === true },
      hostname: hostnameOf(pod.name),
      mounts,
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: `/var/run/netns/${pod.netns}` }],
        maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
        readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      },
    };
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(config, null, 1));
    return runDir;
  }

  /** Starts one run of a container; resolves when it exits, with its exit code. */
  private startContainer(container: Container): Promise<number> {
    const pod = container.pod;
    const bundle = this.bundle(pod, container);
    container.runId = `${this.options.prefix}-${pod.index}-${container.spec.name}-${container.restarts}`;
    const log = fs.openSync(container.logFile, 'a');
    fs.writeSync(log, `=== ${new Date().toISOString()} start ${container.runId}\n`);
    container.pidFile = path.join(bundle, 'init.pid');
    const child = spawn('runc', ['--root', this.runcRoot, 'run', '--pid-file', container.pidFile, '--bundle', bundle, container.runId], {
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    container.process = child;
    container.ready = false;
    const exited = new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => {
        const status = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1);
        container.lastExitCode = status;
        container.ready = false;
        fs.appendFileSync(container.logFile, `=== ${new Date().toISOString()} exit ${status}\n`);
        run('runc', ['--root', this.runcRoot, 'delete', '--force', container.runId], true);
        run('umount', ['-l', path.join(bundle, 'rootfs')], true);
        resolve(status);
      });
    });
    container.exited = exited;
    return exited;
  }

  private async stopContainer(c: Container, graceSeconds: number): Promise<void> {
    const deadline = Date.now() + graceSeconds * 1000;
    const preStop = c.spec.lifecycle?.preStop?.exec?.command;
    if (preStop) await this.exec(c.pod, c.spec.name, preStop, graceSeconds);
    if (!c.process || c.process.exitCode !== null) return;
    run('runc', ['--root', this.runcRoot, 'kill', c.runId, 'TERM'], true);
    const killed = await Promise.race([c.exited.then(() => true), sleep(Math.max(1000, deadline - Date.now())).then(() => false)]);
    if (!killed) {
      run('runc', ['--root', this.runcRoot, 'kill', '--all', c.runId, 'KILL'], true);
      // runc cannot signal a container whose state it lost: then its init process is killed
      // directly, which ends every process of its PID namespace, and `runc run` exits with it.
      const gone = await Promise.race([c.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!gone) {
        killContainerInit(c);
        await Promise.race([c.exited, sleep(10_000)]);
      }
    }
  }

  private async runPod(pod: Pod): Promise<void> {
    const spec = pod.spec;
    const restartPolicy: string = spec.restartPolicy ?? 'Always';
    for (const initSpec of spec.initContainers ?? []) {
      const c = new Container(pod, initSpec, true);
      pod.containers.push(c);
      for (;;) {
        const code = await this.startContainer(c);
        if (pod.stopping) return;
        if (code === 0) break;
        if (restartPolicy === 'Never') {
          pod.finish('Failed');
          return;
        }
        c.restarts++;
        await sleep(backoffMs(c.restarts));
      }
    }
    const mains = (spec.containers as KubeObject[]).map((s) => new Container(pod, s, false));
    pod.containers.push(...mains);
    pod.phase = 'Running';
    const results = await Promise.all(
      mains.map(async (c) => {
        for (;;) {
          const code = await this.startContainer(c);
          if (pod.stopping) return code;
          if (restartPolicy === 'Never' || (restartPolicy === 'OnFailure' && code === 0)) return code;
          c.restarts++;
          await sleep(backoffMs(c.restarts));
          if (pod.stopping) return code;
        }
      }),
    );
    if (pod.stopping) return;
    pod.finish(results.every((code) => code === 0) ? 'Succeeded' : 'Failed');
    this.tearDownPod(pod);
    this.writeHosts();
  }

  /**
   * Readiness (and startup) probes of every running container, started once a second at most.
   * Each container's probe runs on its own, bounded by its timeout (plus 2 s): a probe that does
   * not end (a `runc exec` that hangs, say) fails, and never holds up the probes of other
   * containers.
   */
  private probeAll(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const pod of this.pods) {
      if (pod.phase !== 'Running') continue;
      for (const c of pod.containers) {
        if (c.init || !c.process || c.process.exitCode !== null) continue;
        const probe = c.spec.readinessProbe;
        if (!probe) {
          if (!c.ready) {
            c.ready = true;
            this.writeHosts();
          }
          continue;
        }
        if (c.probing || c.probeAt > now) continue;
        c.probeAt = now + (probe.periodSeconds ?? 10) * 1000;
        c.probing = true;
        const limitMs = (probe.timeoutSeconds ?? 1) * 1000 + 2000;
        let timer: NodeJS.Timeout | undefined;
        const overdue = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), limitMs);
        });
        void Promise.race([this.probe(pod, c, probe).catch(() => false), overdue]).then((ok) => {
          clearTimeout(timer);
          c.probing = false;
          c.lastProbe = `${new Date().toISOString().slice(11, 19)} ${ok ? 'ok' : 'failed'}`;
          if (ok) {
            c.probeFailures = 0;
            c.ready = true;
          } else {
            c.probeFailures++;
            if (c.probeFailures >= (probe.failureThreshold ?? 3)) c.ready = false;
          }
          if (!this.stopped) this.writeHosts();
        });
      }
    }
  }

  /**
   * Every live pod with its phase, IP and containers (ready, restarts, last probe), and the
   * Service names that resolve now: what a failure report needs to tell a cluster that did not
   * get ready from one whose names did not resolve.
   */
  public describe(): string {
    const pods = this.pods
      .filter((p) => p.phase !== 'Deleted')
      .map((p) => {
        const containers = p.containers
          .filter((c) => !c.init)
          .map((c) => `${c.spec.name}:${c.ready ? 'ready' : 'not-ready'},restarts=${c.restarts}${c.lastProbe ? `,probe ${c.lastProbe}` : ''}`);
        return `  ${p.name} ${p.phase} ${p.ip} ${containers.join(' ')}`;
      });
    const services = this.services.map((svc) => `  ${svc.metadata.name}: ${this.endpoints(svc.metadata.name).join(', ') || '(no ready endpoint)'}`);
    return ['pods:', ...pods, 'services:', ...services].join('\n');
  }

  private async probe(pod: Pod, c: Container, probe: KubeObject): Promise<boolean> {
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    const port = (p: number | string): number => containerPort(c.spec, p);
    if (probe.exec) {
      const result = await this.exec(pod, c.spec.name, probe.exec.command, timeout / 1000);
      return result.code === 0;
    }
    if (probe.tcpSocket) {
      return new Promise((resolve) => {
        const socket = net.connect({ host: pod.ip, port: port(probe.tcpSocket.port), timeout });
        socket.on('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
        socket.on('timeout', () => {
          socket.destroy();
          resolve(false);
        });
      });
    }
    if (probe.httpGet) {
      return httpGet(pod.ip, port(probe.httpGet.port), probe.httpGet.path ?? '/', timeout).then(
        (answer) => answer.status >= 200 && answer.status < 400,
        () => false,
      );
    }
    return false;
  }
}

/** A pod's host name as the kubelet sets it: its name, cut to 63 characters, without a trailing '-' or '.'. */
function hostnameOf(podName: string): string {
  return podName.slice(0, 63).replace(/[-.]+$/, '');
}

/** Unmounts, innermost first, whatever is mounted below `dir`. */
function unmountUnder(dir: string): void {
  for (const mount of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').reverse()) {
    const target = mount.split(' ')[1];
    if (target && target.startsWith(dir + '/')) run('umount', ['-l', target], true);
  }
}

/** kubelet's restart back-off (10 s doubling), capped at 40 s here to keep the run short. */
function backoffMs(restarts: number): number {
  return Math.min(10_000 * 2 ** (restarts - 1), 40_000);
}

/** SIGKILL to the container's init (the first process of its PID namespace), from runc's pid file. */
function killContainerInit(c: Container): void {
  try {
    process.kill(Number(fs.readFileSync(c.pidFile, 'utf8').trim()), 'SIGKILL');
  } catch {
    // No pid file (the container never started) or no such process: nothing left to kill.
  }
  c.process?.kill('SIGKILL');
}
