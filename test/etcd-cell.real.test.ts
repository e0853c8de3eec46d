// The synthesized etcd StatefulSets, run with the real etcd: each member's command line as
// synthesized, on a loopback address of its own (see util/real-etcd.ts for what stands in for the
// pod). Needs Debian's etcd-server and etcd-client, and root (for the per-member /etc/hosts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { EtcdCell } from '../lib';
import { buildApps } from '../main';
import { RealEtcdCluster, RealEtcdMember, builtEtcd, containerPort, etcdStatefulSets, runProcess } from './util/real-etcd';
import { toolVersions } from './util/tools';
import { findObject, testChart } from './util/synth';

/** Every object of the example apps, read back from the YAML files they write, with its file. */
function synthesizedExample(): { file: string; object: any }[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-real-synth-'));
  try {
    for (const app of buildApps(outdir)) {
      app.synth();
    }
    const files = (fs.readdirSync(outdir, { recursive: true }) as string[]).filter((f) => f.endsWith('.k8s.yaml')).sort();
    return files.flatMap((file) =>
      parseAllDocuments(fs.readFileSync(path.join(outdir, file), 'utf8')).map((doc) => ({ file, object: doc.toJSON() })),
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The StatefulSet of an EtcdCell built on its own. */
function etcdCellStatefulSet(cell: string, replicas: number): any {
  const chart = testChart();
  new EtcdCell(chart, 'Etcd', { cell, replicas });
  return findObject(Testing.synth(chart), 'StatefulSet', `etcd-${cell}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The data directory a member's etcd runs with (its --data-dir, already mapped to the volume). */
function dataDir(member: RealEtcdMember): string {
  const flag = member.commandLine.find((a) => a.startsWith('--data-dir='))!;
  return flag.slice('--data-dir='.length);
}

const example = synthesizedExample();
const exampleEtcd = etcdStatefulSets(example.map((e) => e.object));
// The two flows build their etcd with the same code, so their StatefulSets are identical: each
// distinct StatefulSet runs once (both, should they ever differ).
const distinctExampleEtcd = exampleEtcd.filter((sts, i) => exampleEtcd.findIndex((other) => JSON.stringify(other) === JSON.stringify(sts)) === i);

test('etcd and etcdctl are the release of the image the manifests run (built by tools/build.sh)', async () => {
  // WHEN
  const version = await runProcess(builtEtcd('etcd'), ['--version'], { PATH: process.env.PATH }, 10_000);
  const ctlVersion = await runProcess(builtEtcd('etcdctl'), ['version'], { PATH: process.env.PATH }, 10_000);
  // THEN
  const built = toolVersions().ETCD_VERSION;
  expect(version.stdout).toMatch(new RegExp(`^etcd Version: ${built.slice(1).replace(/\./g, '\\.')}\n`));
  expect(ctlVersion.stdout).toMatch(new RegExp(`^etcdctl version: ${built.slice(1).replace(/\./g, '\\.')}\n`));
  for (const sts of exampleEtcd) {
    expect(sts.spec.template.spec.containers[0].image).toBe(`quay.io/coreos/etcd:${built}`);
  }
});

test('the example app has the StatefulSets etcd-global and etcd-test in each flow, the same in both flows', () => {
  // THEN
  expect(example.filter((e) => exampleEtcd.includes(e.object)).map((e) => `${e.file}: ${e.object.metadata.name}`)).toEqual([
    'vreplication/00-cluster.k8s.yaml: etcd-global',
    'vreplication/00-cluster.k8s.yaml: etcd-test',
    'vtworker/00-cluster.k8s.yaml: etcd-global',
    'vtworker/00-cluster.k8s.yaml: etcd-test',
  ]);
  expect(distinctExampleEtcd.map((sts) => sts.metadata.name)).toEqual(['etcd-global', 'etcd-test']);
});

const cases = [
  ...distinctExampleEtcd.map((sts) => ({ title: `the example's ${sts.metadata.name}`, sts })),
  { title: 'an EtcdCell of 1 member', sts: etcdCellStatefulSet('one', 1) },
  { title: 'an EtcdCell of 5 members', sts: etcdCellStatefulSet('five', 5) },
].map((c, k) => ({ ...c, k }));

/** The second octet of this run's loopback addresses: 100 to 249, from the process ID. */
const RUN_OCTET = 100 + (process.pid % 150);

describe.each(cases)('$title, run with the real etcd', ({ sts, k }) => {
  const replicas: number = sts.spec.replicas;
  const container = sts.spec.template.spec.containers[0];
  // Each cluster on addresses of its own, 127.<run>.<k + 1>.11 and up, where <run> comes from the
  // process ID, so that runs of this file in two checkouts at once take different addresses (the
  // members listen on etcd's fixed ports).
  const ips = Array.from({ length: replicas }, (_, i) => `127.${RUN_OCTET}.${k + 1}.${11 + i}`);
  let cluster: RealEtcdCluster | undefined;

  beforeAll(async () => {
    // GIVEN every member started from the synthesized command line
    cluster = await RealEtcdCluster.start(sts, ips, 20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  function started(): RealEtcdCluster {
    if (!cluster) throw new Error(`StatefulSet/${sts.metadata.name} did not start`);
    return cluster;
  }

  test(`the ${replicas} member(s) form one cluster with the synthesized names and URLs`, async () => {
    const c = started();
    const peerPort = containerPort(container, 'peer');
    const clientPort = containerPort(container, 'client');
    const expected = c.members.map((m) => ({
      name: m.podName,
      peerURLs: [`http://${m.podName}.${sts.spec.serviceName}:${peerPort}`],
      clientURLs: [`http://${m.podName}.${sts.spec.serviceName}:${clientPort}`],
    }));
    const clusterIds = new Set<string>();
    for (const member of c.members) {
      // WHEN asked through this member alone
      const out = await c.etcdctl([member], ['member', 'list', '-w', 'json']);
      // THEN it knows exactly the declared members, all in the same cluster
      const list = JSON.parse(out).members.map((m: any) => ({ name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
      expect(list.sort((a: any, b: any) => a.name.localeCompare(b.name))).toEqual(expected);
      clusterIds.add(out.match(/"cluster_id":(\d+)/)![1]);
    }
    expect(clusterIds.size).toBe(1);
  }, 30_000);

  test('every member is healthy, answers its readiness probe and keeps its data in its volume', async () => {
    const c = started();
    // WHEN
    const health = JSON.parse(await c.etcdctl(c.members, ['endpoint', 'health', '-w', 'json']));
    // THEN
    expect(health.map((h: any) => [h.endpoint, h.health]).sort()).toEqual(c.members.map((m) => [c.clientUrl(m), true]));
    for (const member of c.members) {
      const answer = await c.probe(member);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).health).toBe('true');
      expect(dataDir(member).startsWith(Object.values(member.volumes)[0] + '/')).toBe(true);
      expect(fs.existsSync(path.join(dataDir(member), 'member', 'wal'))).toBe(true);
      // etcd created its data directory as the pod's user
      expect(fs.statSync(dataDir(member)).uid).toBe(sts.spec.template.spec.securityContext.runAsUser);
    }
  }, 30_000);

  test('a write through one member is read through every member', async () => {
    const c = started();
    // WHEN
    const value = `written through ${c.members[0].podName}`;
    expect(await c.etcdctl([c.members[0]], ['put', '/vitess/real-etcd-test', value])).toBe('OK\n');
    // THEN
    for (const member of c.members) {
      expect(await c.etcdctl([member], ['get', '/vitess/real-etcd-test', '--print-value-only'])).toBe(`${value}\n`);
    }
  }, 30_000);

  if (replicas >= 3) {
    const tolerated = (replicas - 1) / 2;
    test(`with ${tolerated} member(s) killed, the leader first, the rest still take writes`, async () => {
      const c = started();
      // GIVEN the leader, then the first followers
      const status = await c.etcdctl(c.members, ['endpoint', 'status', '-w', 'simple']);
      const leaders = status
        .trim()
        .split('\n')
        .map((line) => line.split(', '))
        .filter((fields) => fields[4] === 'true')
        .map((fields) => fields[0]);
      expect(leaders).toHaveLength(1);
      const leader = c.members.find((m) => c.clientUrl(m) === leaders[0])!;
      const victims = [leader, ...c.members.filter((m) => m !== leader)].slice(0, tolerated);

      // WHEN they are killed
      for (const victim of victims) {
        expect(await c.kill(victim)).toBe('SIGKILL');
      }
      const survivors = c.running;
      expect(survivors).toHaveLength(replicas - tolerated);

      // THEN a write through the survivors succeeds once they have elected a leader (a request
      // sent before that is dropped and times out, so each attempt is given 2 s)
      const value = `written after losing ${victims.map((v) => v.podName).join(' and ')}`;
      const deadline = Date.now() + 15_000;
      let lastError: unknown;
      let written = false;
      while (!written && Date.now() < deadline) {
        try {
          written = (await c.etcdctl(survivors, ['put', '/vitess/after-kill', value], 2)) === 'OK\n';
        } catch (err) {
          lastError = err;
          await sleep(250);
        }
      }
      if (!written) {
        throw new Error(`no write within 15 s of the kill; last error: ${lastError}\n${c.logs()}`);
      }
      for (const member of survivors) {
        expect(await c.etcdctl([member], ['get', '/vitess/after-kill', '--print-value-only'])).toBe(`${value}\n`);
      }
    }, 40_000);
  }
});
