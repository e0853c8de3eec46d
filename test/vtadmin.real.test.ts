// VTAdmin as synthesized, run with the real vtadmin v24 against a real vtctld v24 and a real etcd:
// the cluster's etcd member as synthesized (util/real-etcd.ts), vtctld with its synthesized args,
// a keyspace created by the real vtctldclient, then vtadmin with the synthesized args and the
// synthesized discovery file and RBAC rules. What stands in for Kubernetes: the Service addresses
// of the discovery file and vtctld's topology address become the 127.0.0.1 ports the processes
// listen on (vtadmin's --addr and vtctld's --port and --grpc-port the same), and the ConfigMap's
// mount directory is a temporary directory with the ConfigMap's files; nothing else changes.
// Needs the binaries of `tools/build.sh vitess-v24` and etcd of `tools/build.sh`, and root (for
// the etcd member's private /etc/hosts).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as http2 from 'http2';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import { GlobalTopology, VitessCluster, VitessClusterProps, VitessRelease, VTADMIN_API_PORT } from '../lib';
import { RealEtcdCluster, etcdStatefulSets, runProcess, freePort } from './util/real-etcd';
import { toolPaths } from './util/tools';

const CLUSTER = 'rt';
const KEYSPACE = 'commerce';
/** The etcd member's loopback address, of its own among the real tests'. */
const ETCD_IP = '127.0.77.1';

/** Every object of a cluster's `00-cluster` chart, synthesized. */
function clusterObjects(props: Partial<VitessClusterProps>): any[] {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'vtadmin-real-synth-')) });
  const cluster = new VitessCluster(app, 'Cluster', {
    release: VitessRelease.V24_0,
    name: CLUSTER,
    globalTopology: GlobalTopology.managed({ replicas: 1 }),
    cells: [{ name: 'zone1' }],
    ...props,
  });
  const objects = Testing.synth(cluster.clusterChart);
  fs.rmSync(app.outdir, { recursive: true, force: true });
  return objects;
}

function find(objects: any[], kind: string, name: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
}

function container(deployment: any, name: string): any {
  return deployment.spec.template.spec.containers.find((c: any) => c.name === name);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An HTTP request to 127.0.0.1:`port`, with its status and body. */
function request(port: number, method: string, urlPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, timeout: 10_000, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON envelope of a vtadmin HTTP API answer (go/vt/vtadmin/http/response.go:29-34). */
async function api(port: number, method: string, urlPath: string, body?: string): Promise<{ ok: boolean; result?: any; error?: any }> {
  const answer = await request(port, method, urlPath, body);
  if (answer.status !== 200) throw new Error(`${method} ${urlPath}: HTTP ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body);
}

/**
 * The gRPC health check that a kubelet's `grpc` probe sends (grpc.health.v1.Health/Check, service
 * ""): the status of the answer (1 is SERVING), read from the protobuf field 1 of the message.
 */
function grpcHealth(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      'te': 'trailers',
    });
    const chunks: Buffer[] = [];
    stream.setTimeout(5000, () => stream.close());
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      session.close();
      const data = Buffer.concat(chunks);
      // 5 bytes of gRPC framing, then the message: 0x08 (field 1, varint) and the status.
      if (data.length >= 7 && data[5] === 0x08) resolve(data[6]);
      else reject(new Error(`unexpected gRPC health answer: ${data.toString('hex')}`));
    });
    stream.on('error', reject);
    // An empty HealthCheckRequest: no compression, length 0.
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

/** A Vitess process started here, with its log. */
interface Proc {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

const procs: Proc[] = [];
let etcd: RealEtcdCluster | undefined;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vtadmin-real-'));
fs.chmodSync(workDir, 0o755);

/** Starts `binary` with `args` as the pod's user and group of `deployment` (Vitess refuses to run as root). */
function start(name: string, deployment: any, binary: string, args: string[]): Proc {
  const logFile = path.join(workDir, `${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const { runAsUser, runAsGroup } = deployment.spec.template.spec.securityContext;
  const child = spawn(binary, args, { cwd: workDir, uid: runAsUser, gid: runAsGroup, env: { PATH: process.env.PATH, HOME: workDir }, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const proc: Proc = { name, process: child, logFile };
  child.on('exit', (code, signal) => (proc.exited = { code, signal }));
  procs.push(proc);
  return proc;
}

async function stop(proc: Proc): Promise<void> {
  if (proc.exited) return;
  proc.process.kill('SIGTERM');
  for (let i = 0; i < 100 && !proc.exited; i++) await sleep(100);
  if (!proc.exited) proc.process.kill('SIGKILL');
  for (let i = 0; i < 50 && !proc.exited; i++) await sleep(100);
}

/** Waits (at most `timeoutMs`) until `check` resolves true; throws with the process's log otherwise. */
async function waitFor(proc: Proc, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited) break;
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${proc.name}: ${what} not within ${timeoutMs} ms (exit ${JSON.stringify(proc.exited)}); log:\n${fs.readFileSync(proc.logFile, 'utf8').slice(-4000)}`);
}

/** A synthesized flag's value (`--name=value`), which must be there. */
function flagValue(args: string[], name: string): string {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) throw new Error(`no --${name} in ${args.join(' ')}`);
  return arg.slice(name.length + 3);
}

/** Replaces the value of `--name=` in `args` (a flag that must be there). */
function withFlag(args: string[], name: string, value: string): string[] {
  flagValue(args, name);
  return args.map((a) => (a.startsWith(`--${name}=`) ? `--${name}=${value}` : a));
}

let bin: string;
let vtctldGrpc: number;

/** vtctldclient against the real vtctld. */
async function vtctldclient(args: string[], timeoutMs = 30_000): Promise<string> {
  const result = await runProcess(path.join(bin, 'vtctldclient'), [`--server=127.0.0.1:${vtctldGrpc}`, ...args], { PATH: process.env.PATH, HOME: workDir }, timeoutMs);
  if (result.code !== 0) throw new Error(`vtctldclient ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Starts vtadmin as the cluster's synthesized VTAdmin runs it: the API container's command and args,
 * its ConfigMap's files in a directory that stands for the mount, the discovery file's addresses
 * rewritten to the loopback ports.
 */
async function startVtadmin(name: string, objects: any[], addresses: Record<string, string>): Promise<{ proc: Proc; port: number; files: Record<string, string> }> {
  const deployment = find(objects, 'Deployment', `${CLUSTER}-vtadmin`);
  const configMap = find(objects, 'ConfigMap', `${CLUSTER}-vtadmin-config`);
  const api = container(deployment, 'vtadmin-api');
  const mount = api.volumeMounts.find((m: any) => m.name === 'api-config');
  const dir = path.join(workDir, name);
  fs.mkdirSync(dir);
  const discovery = JSON.parse(configMap.data['discovery.json']);
  for (const entry of [...discovery.vtctlds, ...discovery.vtgates]) {
    const local = addresses[entry.host.hostname];
    if (local === undefined) throw new Error(`no local address for ${entry.host.hostname}`);
    entry.host.hostname = local;
  }
  fs.writeFileSync(path.join(dir, 'discovery.json'), JSON.stringify(discovery));
  fs.writeFileSync(path.join(dir, 'rbac.yaml'), configMap.data['rbac.yaml']);
  const port = await freePort();
  expect(flagValue(api.args, 'addr')).toBe(`:${VTADMIN_API_PORT}`);
  const args = withFlag(api.args, 'addr', `127.0.0.1:${port}`).map((a: string) => a.split(`${mount.mountPath}/`).join(`${dir}/`));
  expect(api.command).toEqual(['/vt/bin/vtadmin']);
  const proc = start(name, deployment, path.join(bin, 'vtadmin'), args);
  await waitFor(proc, '/health', 30_000, async () => (await request(port, 'GET', '/health')).body === 'ok\n');
  return { proc, port, files: configMap.data };
}

const restricted = clusterObjects({
  vtadmin: {
    rbac: {
      rules: [
        { resource: 'Cluster', actions: ['get'], subjects: ['*'], clusters: [CLUSTER] },
        { resource: 'Keyspace', actions: ['get'], subjects: ['*'], clusters: ['*'] },
      ],
    },
  },
});
const permissive = clusterObjects({
  vtadmin: {
    rbac: {
      rules: [
        { resource: '*', actions: ['get'], subjects: ['*'], clusters: ['*'] },
        { resource: 'Keyspace', actions: ['create'], subjects: ['*'], clusters: ['*'] },
      ],
    },
  },
});
let addresses: Record<string, string>;

beforeAll(async () => {
  bin = toolPaths().VITESS_V24_BIN_DIR;
  for (const name of ['vtctld', 'vtctldclient', 'vtadmin']) {
    if (!fs.existsSync(path.join(bin, name))) throw new Error(`${bin}/${name} is missing: build it with 'bash tools/build.sh vitess-v24'`);
  }
  const [sts] = etcdStatefulSets(restricted);
  etcd = await RealEtcdCluster.start(sts, [ETCD_IP], 60_000);
  const vtctldDeployment = find(restricted, 'Deployment', `${CLUSTER}-vtctld`);
  const vtctldContainer = container(vtctldDeployment, 'vtctld');
  const [vtctldWeb, grpcPort] = [await freePort(), await freePort()];
  vtctldGrpc = grpcPort;
  expect(flagValue(vtctldContainer.args, 'topo-global-server-address')).toBe(`${CLUSTER}-etcd-global-client:2379`);
  let args = withFlag(vtctldContainer.args, 'topo-global-server-address', etcd.clientUrl(etcd.members[0]).replace('http://', ''));
  args = withFlag(withFlag(args, 'port', String(vtctldWeb)), 'grpc-port', String(grpcPort));
  const vtctld = start('vtctld', vtctldDeployment, path.join(bin, 'vtctld'), args);
  await waitFor(vtctld, 'GetKeyspaces', 30_000, async () => (await vtctldclient(['GetKeyspaces'], 5000)) !== undefined);
  // As the cluster's AddCellInfo Job registers the cell (its topology is the global etcd's).
  await vtctldclient(['AddCellInfo', `--server-address=${ETCD_IP}:2379`, '--root=/vitess/zone1', 'zone1']);
  await vtctldclient(['CreateKeyspace', KEYSPACE]);
  // vtgate's gRPC address: nothing listens there (vtadmin dials vtgates only for queries).
  addresses = { [`${CLUSTER}-vtctld:15999`]: `127.0.0.1:${grpcPort}`, [`${CLUSTER}-vtgate-zone1:15991`]: `127.0.0.1:${await freePort()}` };
}, 150_000);

afterAll(async () => {
  for (const proc of [...procs].reverse()) await stop(proc);
  if (etcd) await etcd.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe('vtadmin v24 with the synthesized configuration', () => {
  test('finds the cluster and its keyspace through vtctld, is ready by its gRPC health and denies what the rules do not allow', async () => {
    // GIVEN
    const { proc, port, files } = await startVtadmin('vtadmin-restricted', restricted, addresses);
    expect(yaml.load(files['rbac.yaml'])).toEqual({
      rules: [
        { resource: 'Cluster', actions: ['get'], subjects: ['*'], clusters: [CLUSTER] },
        { resource: 'Keyspace', actions: ['get'], subjects: ['*'], clusters: ['*'] },
      ],
    });

    // WHEN
    const health = await grpcHealth(port);
    const clusters = await api(port, 'GET', '/api/clusters');
    const keyspaces = await api(port, 'GET', '/api/keyspaces');
    const vtctlds = await api(port, 'GET', '/api/vtctlds');
    const create = await request(port, 'POST', `/api/keyspace/${CLUSTER}`, JSON.stringify({ name: 'denied_ks' }));

    // THEN
    expect(proc.exited).toBeUndefined();
    expect(health).toBe(1); // SERVING: the readiness probe passes
    expect(clusters.result.clusters).toEqual([{ id: CLUSTER, name: CLUSTER }]);
    expect(keyspaces.result.keyspaces.map((k: any) => [k.cluster.id, k.keyspace.name])).toEqual([[CLUSTER, KEYSPACE]]);
    // No rule for Vtctld (get) nor Keyspace (create): vtadmin leaves the cluster out of the list,
    // and refuses the write (go/vt/vtadmin/api.go:607-609 at v0.24.4).
    expect(vtctlds).toEqual({ result: {}, ok: true });
    expect(create.status).toBe(500);
    expect(JSON.parse(create.body)).toEqual({ error: { message: `unauthorized: cannot create keyspace in ${CLUSTER}`, code: 'unknown' }, ok: false });
    expect(JSON.parse(await vtctldclient(['GetKeyspaces'])).map((k: any) => k.name)).toEqual([KEYSPACE]);
    await stop(proc);
  }, 90_000);

  test('the same requests pass where the rules allow them', async () => {
    // GIVEN
    const { proc, port } = await startVtadmin('vtadmin-permissive', permissive, addresses);

    // WHEN
    const vtctlds = await api(port, 'GET', '/api/vtctlds');
    const create = await api(port, 'POST', `/api/keyspace/${CLUSTER}`, JSON.stringify({ name: 'allowed_ks' }));

    // THEN
    expect(vtctlds.result.vtctlds.map((v: any) => [v.cluster.id, v.hostname])).toEqual([[CLUSTER, addresses[`${CLUSTER}-vtctld:15999`]]]);
    expect(create.ok).toBe(true);
    expect(create.result.keyspace.cluster.id).toBe(CLUSTER);
    expect(create.result.keyspace.keyspace.name).toBe('allowed_ks');
    expect(JSON.parse(await vtctldclient(['GetKeyspaces'])).map((k: any) => k.name).sort()).toEqual(['allowed_ks', KEYSPACE]);
    await stop(proc);
  }, 90_000);
});
