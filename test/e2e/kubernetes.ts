// The example's files, and those of a two-cell, two-keyspace VitessCluster with a resharding and
// pod extensions (clusterApps), applied to a real Kubernetes control plane
// (test/util/real-kubernetes.ts), as the README tells users to apply them, with client-side and
// with server-side apply, each flow in a namespace of its own. It checks that the API server takes every file without a warning, that
// applying everything again changes nothing (`kubectl diff`), that the controllers create the pods,
// PVCs, ReplicaSets and Job pods the manifests promise, that each PodDisruptionBudget counts the
// pods it should, that each Service's EndpointSlices and each NetworkPolicy select exactly the pods
// meant, that the rollbacks apply, that changes a user makes later are taken as updates (and which
// one Kubernetes refuses), and that deleting the old tablets' file keeps their PVCs.
//
// Run with `npm run e2e:kubernetes`; the last line it prints is the summary. Exits 1 at the first
// failed check, saying what was expected and what was found.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, YamlOutputType } from 'cdk8s';
import { ExampleChanges, MESSAGES_VSCHEMA, buildApps } from '../../main';
import { BackupStorage, CellTopology, GlobalTopology, Partitioning, S3ServerSideEncryption, TabletPoolType, VitessCluster, VitessRelease } from '../../lib';
import { runProcess } from '../util/real-etcd';
import { RealKubernetes } from '../util/real-kubernetes';
import { readManifest } from '../util/workloads';

const NODE = 'node-1';
/** The label of a named cluster's objects and pods. */
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
/** The field manager of server-side apply. */
const FIELD_MANAGER = 'cdk8s-vitess';

interface Counts {
  files: number;
  applied: number;
  files2: number;
  reapplied: number;
  pods: number;
  pvcs: number;
  jobs: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Synthesizes the example (with `changes`) into a new folder, and beside its two flows a
 * VitessCluster of two cells and two keyspaces (`cluster/`, {@link clusterApps}); returns it.
 */
function synthesize(changes: ExampleChanges = {}): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-dist-'));
  for (const app of [...buildApps(outdir, changes), ...clusterApps(path.join(outdir, 'cluster'))]) {
    app.synth();
  }
  return outdir;
}

/**
 * Two current-release clusters from the cluster model, `blue` and `green`, in one app (so one
 * namespace), each as a user would describe it: two cells (one
 * with an etcd of its own, one inside the global etcd), `commerce` unsharded with replicas in both
 * cells, `customer` on two shards with `-80` resharded into `-40` and `40-80` (VReplication), tablet
 * UIDs from hashes, and pod extensions on every kind of component (flags, environment, volumes, a
 * sidecar, an init container, labels, annotations, another mysqld image), backups in S3 with keys from a Secret (blue) or on NFS with daily scheduled backups (green), VTAdmin, a mysqld_exporter sidecar, and an autoscaled vtgate with TLS.
 */
function clusterApps(outdir: string): App[] {
  const CUSTOMER_VSCHEMA = { ...MESSAGES_VSCHEMA, tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } } };
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART, recordConstructMetadata: false });
  const rollbackApp = new App({ outdir: path.join(outdir, 'rollback'), yamlOutputType: YamlOutputType.FILE_PER_CHART, recordConstructMetadata: false });
  for (const name of ['blue', 'green']) {
    const cluster = new VitessCluster(app, name, {
      release: VitessRelease.V24_0,
      name,
      globalTopology: GlobalTopology.managed({ podAnnotations: { 'backup.example.com/skip': 'true' } }),
      cells: [
        {
          name: 'zone1',
          zone: 'zone-a',
          topology: CellTopology.managed({ replicas: 1 }),
          // minReplicas 1: the HPA, without a metrics server here, leaves the Deployment's one pod alone, so that the pods stay those the checks expect.
          vtgate: { autoscaling: { minReplicas: 1, maxReplicas: 6 }, tls: { secretName: 'vtgate-tls', requireSecureTransport: true } },
        },
        {
          name: 'zone2',
          zone: 'zone-a',
          vtgate: {
            replicas: 2,
            extraFlags: { vtgate: { tablet_refresh_interval: '10s' } },
            sidecars: [{ name: 'proxy', image: 'envoyproxy/envoy:v1.31.0', ports: [{ name: 'proxy', containerPort: 10000 }] }],
          },
        },
      ],
      // Backups in S3 with keys from a Secret for one cluster; on NFS, with scheduled backups, for the other.
      backup:
        name === 'blue'
          ? BackupStorage.s3({
              bucket: 'vitess-backups-blue',
              region: 'eu-west-1',
              keyPrefix: 'blue',
              serverSideEncryption: S3ServerSideEncryption.KMS,
              credentialsSecret: { secretName: 'backup-s3' },
            })
          : BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess-green' }),
      vtadmin: {},
      vtctld: { extraEnv: [{ name: 'TZ', value: 'UTC' }], jobOptions: { podLabels: { team: 'ops' } } },
      vtorcPods: { extraFlags: { vtorc: { 'instance-poll-time': '2s' } } },
      keyspaces: [
        {
          name: 'commerce',
          partitionings: [Partitioning.equal(1)],
          schema: { product: 'CREATE TABLE product (sku VARBINARY(128), PRIMARY KEY (sku))' },
          tabletPools: [
            { cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2, mysqldExporter: {} },
            { cell: 'zone2', type: TabletPoolType.REPLICA, replicas: 1 },
          ],
        },
        {
          name: 'customer',
          partitionings: [Partitioning.keyRanges(['-80', '80-']), Partitioning.keyRanges(['-40', '40-80', '80-'])],
          vschema: CUSTOMER_VSCHEMA,
          backupSchedules:
            name === 'green' ? [{ name: 'daily', schedule: '0 3 * * *', stagger: Duration.minutes(30), keepCount: 7, keepFor: Duration.days(14) }] : undefined,
          tabletPools: [TabletPoolType.REPLICA, TabletPoolType.RDONLY].map((type) => ({
            cell: 'zone1',
            type,
            replicas: type === TabletPoolType.REPLICA ? 2 : 1,
            mysqldImage: 'vitess/lite:v24.0.4',
            extraFlags: { vttablet: { 'queryserver-config-pool-size': 32 } },
            extraVolumes: [{ name: 'ca', configMap: { name: 'corp-ca', optional: true } }],
            extraVolumeMounts: [{ name: 'ca', mountPath: '/etc/ssl/corp', readOnly: true }],
            initContainers: [{ name: 'hello', image: 'busybox:1.36', command: ['true'] }],
            podLabels: { team: 'orders' },
          })),
        },
      ],
    });
    cluster.reshard('customer', {
      from: ['-80'],
      to: ['-40', '40-80'],
      vschema: CUSTOMER_VSCHEMA,
      rollbackApp,
    });
  }
  return [app, rollbackApp];
}

/** The YAML files of a folder in lexical (apply) order. */
function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

class Flow {
  public constructor(
    private readonly k: RealKubernetes,
    private readonly flow: string,
    private readonly mode: 'client' | 'server',
    private readonly dist: string,
    private readonly counts: Counts,
  ) {}

  private get ns(): string {
    return `${this.flow}-${this.mode}`;
  }

  private get dir(): string {
    return path.join(this.dist, this.flow);
  }

  /** `kubectl apply` of one file as the README says; fails on a rejection or a warning. */
  private async apply(file: string): Promise<void> {
    const args =
      this.mode === 'client'
        ? ['apply', '-n', this.ns, '-f', file]
        : ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-n', this.ns, '-f', file];
    const result = await this.k.kubectl(args);
    assert.strictEqual(result.code, 0, `kubectl ${args.join(' ')} was rejected:\n${result.stderr}`);
    assert.ok(!/warning/i.test(result.stderr), `kubectl ${args.join(' ')} warned:\n${result.stderr}`);
  }

  /** `kubectl diff` of one file: exit 0 means no difference. */
  private async diff(file: string): Promise<void> {
    const args = ['diff', '-n', this.ns, '-f', file, ...(this.mode === 'server' ? ['--server-side', `--field-manager=${FIELD_MANAGER}`] : [])];
    const result = await this.k.kubectl(args);
    assert.strictEqual(result.code, 0, `kubectl ${args.join(' ')} found differences (exit ${result.code}):\n${result.stdout}${result.stderr}`);
  }

  public async run(): Promise<void> {
    const k = this.k;
    log(`${this.ns}: applying ${this.dir}`);
    await k.kubectlOk(['create', 'namespace', this.ns]);
    // The README: the vtgate MySQL users Secret is created by hand, first.
    await k.kubectlOk(['create', 'secret', 'generic', 'vtgate-test-mysql-auth', '-n', this.ns, '--from-literal=users.json={"mysql_user": []}']);
    const files = yamlFiles(this.dir);
    for (const file of files) {
      this.counts.files += 1;
      await this.apply(file);
      this.counts.applied += 1;
      await this.runNode();
    }
    await this.settle();

    // Everything again: no error, and nothing to change.
    for (const file of files) {
      this.counts.files2 += 1;
      await this.apply(file);
      await this.diff(file);
      this.counts.reapplied += 1;
    }

    await this.checkWorkloads();
    await this.checkDisruptionBudgets();
    await this.checkServicesAndPolicies();

    if (this.mode === 'client' && this.flow !== 'cluster') {
      await this.checkUpdates();
      if (this.flow === 'vtworker') {
        await this.checkSplitDiffResultAccess();
      }
    }
    for (const file of yamlFiles(path.join(this.dir, 'rollback'))) {
      this.counts.files += 1;
      await this.apply(file);
      this.counts.applied += 1;
    }
    await this.checkDeleteOldTablets();
  }

  /**
   * What a node agent does: every pod not bound yet is bound to the node, and every pod bound is
   * reported running and ready, with an address of its own (data only: nothing is sent to it); a
   * pod being deleted is removed once its containers would have stopped (at once: nothing runs).
   * Job pods are left pending: nothing here runs their scripts.
   */
  private async runNode(): Promise<void> {
    const pods = (await this.k.getJson(['pods', '-n', this.ns])).items as any[];
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp !== undefined) {
        await this.k.kubectl(['delete', 'pod', pod.metadata.name, '-n', this.ns, '--grace-period=0', '--force', '--wait=false']);
        continue;
      }
      if (pod.metadata.labels?.['job-name'] !== undefined) continue;
      if (!pod.spec.nodeName) {
        const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: NODE } };
        await this.k.kubectlOk(['create', '--raw', `/api/v1/namespaces/${this.ns}/pods/${pod.metadata.name}/binding`, '-f', '-'], {
          input: JSON.stringify(binding),
        });
      }
      const ready = (pod.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      if (!ready) {
        const ip = podIp();
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const condition = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
        const status = {
          status: {
            phase: 'Running',
            hostIP: '10.200.0.1',
            podIP: ip,
            podIPs: [{ ip }],
            startTime: now,
            conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map(condition),
            containerStatuses: pod.spec.containers.map((c: any) => ({
              name: c.name,
              image: c.image,
              imageID: '',
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            })),
          },
        };
        await this.k.kubectlOk(['patch', 'pod', pod.metadata.name, '-n', this.ns, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
      }
    }
  }

  /** Runs the node until every workload has its pods ready (at most 60 s). */
  private async settle(): Promise<void> {
    const deadline = Date.now() + 60000;
    let missing = '';
    for (let i = 0; i < 120 && Date.now() < deadline; i++) {
      await this.runNode();
      missing = await this.missingPods();
      if (missing === '') return;
      await sleep(500);
    }
    assert.fail(`${this.ns}: the controllers did not create every pod within 60 s: ${missing}`);
  }

  /** The workloads whose ready pods are fewer than their replicas, in words; '' when none. */
  private async missingPods(): Promise<string> {
    const gaps: string[] = [];
    for (const kind of ['statefulsets', 'deployments']) {
      for (const w of (await this.k.getJson([kind, '-n', this.ns])).items as any[]) {
        if ((w.status.readyReplicas ?? 0) < w.spec.replicas) {
          gaps.push(`${w.kind}/${w.metadata.name} ${w.status.readyReplicas ?? 0}/${w.spec.replicas} ready`);
        }
      }
    }
    return gaps.join(', ');
  }

  /** One pod and one PVC per StatefulSet replica, the Deployments' ReplicaSets and pods, one pod per Job. */
  private async checkWorkloads(): Promise<void> {
    const k = this.k;
    const workloads = await this.workloads();
    const pods = workloads.pods;
    const podNames = new Set(pods.map((p) => p.metadata.name));
    const pvcNames = new Set(((await k.getJson(['pvc', '-n', this.ns])).items as any[]).map((p) => p.metadata.name));
    for (const sts of workloads.statefulSets) {
      for (let i = 0; i < sts.spec.replicas; i++) {
        const pod = `${sts.metadata.name}-${i}`;
        assert.ok(podNames.has(pod), `${this.ns}: StatefulSet/${sts.metadata.name} has no pod ${pod}`);
        for (const claim of sts.spec.volumeClaimTemplates ?? []) {
          const pvc = `${claim.metadata.name}-${pod}`;
          assert.ok(pvcNames.has(pvc), `${this.ns}: StatefulSet/${sts.metadata.name} has no PVC ${pvc}`);
        }
      }
    }
    for (const deployment of (await k.getJson(['deployments', '-n', this.ns])).items as any[]) {
      const owned = workloads.replicaSets.filter((rs) => rs.metadata.ownerReferences?.some((o: any) => o.kind === 'Deployment' && o.name === deployment.metadata.name));
      assert.strictEqual(owned.length, 1, `${this.ns}: Deployment/${deployment.metadata.name} has ${owned.length} ReplicaSets`);
      const ownedPods = podsOf(deployment.metadata.name, workloads);
      assert.strictEqual(ownedPods.length, deployment.spec.replicas, `${this.ns}: Deployment/${deployment.metadata.name} has ${ownedPods.length} pods`);
    }
    const jobs = (await k.getJson(['jobs', '-n', this.ns])).items as any[];
    for (const job of jobs) {
      const jobPods = pods.filter((p) => p.metadata.labels?.['job-name'] === job.metadata.name);
      assert.strictEqual(jobPods.length, 1, `${this.ns}: Job/${job.metadata.name} has ${jobPods.length} pods`);
      // A Job with a service account gets its token; every other Job none.
      const expectToken = job.spec.template.spec.serviceAccountName !== undefined;
      assert.strictEqual(jobPods[0].spec.automountServiceAccountToken, expectToken, `${this.ns}: Job/${job.metadata.name}'s pod token`);
    }
    this.counts.pods += pods.length;
    this.counts.pvcs += pvcNames.size;
    this.counts.jobs += jobs.length;
    log(`${this.ns}: ${pods.length} pods, ${pvcNames.size} PVCs, ${jobs.length} Jobs`);
  }

  /** The namespace's pods, ReplicaSets and StatefulSets, read once for the checks that follow. */
  private async workloads(): Promise<Workloads> {
    const items = async (kind: string) => (await this.k.getJson([kind, '-n', this.ns])).items as any[];
    return { pods: await items('pods'), replicaSets: await items('replicasets'), statefulSets: await items('statefulsets') };
  }

  /** Each PDB's expected pods are the pods of the workload(s) it covers. */
  private async checkDisruptionBudgets(): Promise<void> {
    const deadline = Date.now() + 30000;
    const workloads = await this.workloads();
    for (const pdb of (await this.k.getJson(['pdb', '-n', this.ns])).items as any[]) {
      const intended = intendedPods(pdb.metadata.name, workloads);
      assert.ok(intended.length > 0, `${this.ns}: PodDisruptionBudget/${pdb.metadata.name} is meant for no pods`);
      let expected: number | undefined;
      for (let i = 0; i < 60 && Date.now() < deadline; i++) {
        expected = (await this.k.getJson(['pdb', pdb.metadata.name, '-n', this.ns])).status?.expectedPods;
        if (expected === intended.length) break;
        await sleep(500);
      }
      assert.strictEqual(expected, intended.length, `${this.ns}: PodDisruptionBudget/${pdb.metadata.name} expects ${expected} pods, meant for ${intended.join(', ')}`);
    }
  }

  /** Each Service's EndpointSlices, and each NetworkPolicy's selector, take exactly the pods meant. */
  private async checkServicesAndPolicies(): Promise<void> {
    const k = this.k;
    const deadline = Date.now() + 30000;
    const workloads = await this.workloads();
    const everyPod = workloads.pods.map((p) => p.metadata.name).sort();
    // The pods of a named cluster (its instance label), which its policies admit as peers.
    const podsOfCluster = (cluster: string | undefined): string[] =>
      cluster === undefined ? everyPod : workloads.pods.filter((p) => p.metadata.labels?.[INSTANCE_LABEL] === cluster).map((p) => p.metadata.name).sort();
    for (const service of (await k.getJson(['services', '-n', this.ns])).items as any[]) {
      const name = service.metadata.name;
      const intended = intendedPods(name, workloads, service.metadata.labels);
      assert.ok(intended.length > 0, `${this.ns}: Service/${name} is meant for no pods`);
      let selected: string[] = [];
      for (let i = 0; i < 60 && Date.now() < deadline; i++) {
        const slices = (await k.getJson(['endpointslices', '-n', this.ns, '-l', `kubernetes.io/service-name=${name}`])).items as any[];
        selected = slices.flatMap((s) => (s.endpoints ?? []).map((e: any) => e.targetRef?.name)).sort();
        if (JSON.stringify(selected) === JSON.stringify(intended)) break;
        await sleep(500);
      }
      assert.deepStrictEqual(selected, intended, `${this.ns}: Service/${name} selects other pods than meant`);
    }
    for (const policy of (await k.getJson(['networkpolicies', '-n', this.ns])).items as any[]) {
      const selector = labelSelector(policy.spec.podSelector);
      const selected = ((await k.getJson(['pods', '-n', this.ns, '-l', selector])).items as any[]).map((p) => p.metadata.name).sort();
      const intended = intendedPods(policy.metadata.name, workloads);
      assert.deepStrictEqual(selected, intended, `${this.ns}: NetworkPolicy/${policy.metadata.name} selects other pods than meant`);
      // The peers admitted by pod label are every pod of the cluster, Job pods included (the Jobs
      // talk to vtctld, the tablets and vtgate to each other and to etcd), or the policy's own pods
      // (etcd's peer port: the cell's members only).
      for (const rule of policy.spec.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          if (peer.podSelector === undefined) continue;
          const peerSelector = labelSelector(peer.podSelector);
          const peers = ((await k.getJson(['pods', '-n', this.ns, ...(peerSelector ? ['-l', peerSelector] : [])])).items as any[])
            .map((p) => p.metadata.name)
            .sort();
          const own = peerSelector === selector;
          assert.deepStrictEqual(
            peers,
            own ? intended : podsOfCluster(policy.metadata.labels?.[INSTANCE_LABEL]),
            `${this.ns}: NetworkPolicy/${policy.metadata.name} admits other pods than ${own ? 'its own' : "the cluster's"} (${peerSelector})`,
          );
        }
      }
    }
  }

  /**
   * Changes a user makes later, applied over the running state: a larger vttablet memory request,
   * a fourth vtgate and a sixth tablet are updates; a larger data volume is refused, as Kubernetes
   * refuses any change of a StatefulSet's volumeClaimTemplates (the README gives the procedure).
   */
  private async checkUpdates(): Promise<void> {
    const k = this.k;
    const changed = synthesize({ vtgateReplicas: 4, vttabletMemoryRequest: '512Mi', rdonlyCount: 3 });
    for (const file of ['00-cluster.k8s.yaml', '01-tablets-test-keyspace-0.k8s.yaml']) {
      await this.apply(path.join(changed, this.flow, file));
    }
    await this.settle();
    const vtgate = await k.getJson(['deployment', 'vtgate-test', '-n', this.ns]);
    assert.strictEqual(vtgate.spec.replicas, 4, `${this.ns}: vtgate-test replicas after the update`);
    const updated = await this.workloads();
    assert.strictEqual(podsOf('vtgate-test', updated).length, 4, `${this.ns}: vtgate-test pods after the update`);
    const tablet = await k.getJson(['statefulset', 'vttablet-100', '-n', this.ns]);
    const vttablet = tablet.spec.template.spec.containers.find((c: any) => c.name === 'vttablet');
    assert.strictEqual(vttablet.resources.requests.memory, '512Mi', `${this.ns}: vttablet-100's template after the update`);
    // OnDelete: the running pod keeps its old request until it is deleted by hand.
    const pod = await k.getJson(['pod', 'vttablet-100-0', '-n', this.ns]);
    const podVttablet = pod.spec.containers.find((c: any) => c.name === 'vttablet');
    assert.strictEqual(podVttablet.resources.requests.memory, '256Mi', `${this.ns}: vttablet-100-0 was replaced by the update`);
    assert.deepStrictEqual(podsOf('vttablet-105', updated), ['vttablet-105-0'], `${this.ns}: the added tablet's pod`);
    const larger = synthesize({ vtgateReplicas: 4, vttabletMemoryRequest: '512Mi', rdonlyCount: 3, tabletStorageSize: '20Gi' });
    const file = path.join(larger, this.flow, '01-tablets-test-keyspace-0.k8s.yaml');
    const refused = await k.kubectl(['apply', '-n', this.ns, '-f', file]);
    assert.notStrictEqual(refused.code, 0, `${this.ns}: a larger volumeClaimTemplates storage was accepted`);
    assert.ok(/spec: Forbidden: updates to statefulset spec for fields other than/.test(refused.stderr), `${this.ns}: ${refused.stderr}`);
    log(`${this.ns}: updates accepted (vtgate replicas, vttablet memory, tablet 105); a new volume size refused: ${refused.stderr.split('\n').find((l) => l.includes('Forbidden'))}`);
    // The README's procedure: delete the file's StatefulSets but not their pods, apply the new
    // file, and the new StatefulSets adopt the running pods (the same pods, not new ones).
    const shard = ['-n', this.ns, '-l', 'component=vttablet,keyspace=test_keyspace,shard=0'];
    const uids = async () =>
      Object.fromEntries(((await k.getJson(['pods', ...shard])).items as any[]).map((p) => [p.metadata.name, p.metadata.uid]));
    const before = await uids();
    await k.kubectlOk(['delete', 'statefulset', ...shard, '--cascade=orphan']);
    await this.apply(file);
    let orphans: string[] = [];
    for (let i = 0; i < 60; i++) {
      orphans = ((await k.getJson(['pods', ...shard])).items as any[])
        .filter((p) => !p.metadata.ownerReferences?.some((o: any) => o.kind === 'StatefulSet' && `${o.name}-0` === p.metadata.name))
        .map((p) => p.metadata.name);
      if (orphans.length === 0) break;
      await sleep(500);
    }
    assert.deepStrictEqual(orphans, [], `${this.ns}: pods not adopted by the new StatefulSets`);
    assert.deepStrictEqual(await uids(), before, `${this.ns}: tablet pods were replaced instead of adopted`);
    const resized = await k.getJson(['statefulset', 'vttablet-100', '-n', this.ns]);
    assert.strictEqual(resized.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '20Gi', `${this.ns}: vttablet-100's new volume size`);
    // Back to the example's own size, the same way.
    await k.kubectlOk(['delete', 'statefulset', ...shard, '--cascade=orphan']);
    // Back to the example's own files.
    for (const f of ['00-cluster.k8s.yaml', '01-tablets-test-keyspace-0.k8s.yaml']) {
      await this.apply(path.join(this.dir, f));
    }
    // The added tablet is no longer in the file: its pod, orphaned, goes by hand (its PVC stays).
    await k.kubectlOk(['delete', 'pod', 'vttablet-105-0', '-n', this.ns, '--wait=false']);
    await this.settle();
    for (const d of [changed, larger]) fs.rmSync(d, { recursive: true, force: true });
    if (this.flow === 'vreplication') {
      await this.checkChangedJobs();
    }
  }

  /**
   * A Job's pod template cannot change once the Job exists: the Jobs of 02-init with other content
   * (here the v24 image and flags) are new Jobs, named after their content, that `kubectl apply`
   * creates beside the existing ones instead of failing; the file as it was still applies unchanged.
   */
  private async checkChangedJobs(): Promise<void> {
    const k = this.k;
    const file = '02-init.k8s.yaml';
    const before = ((await k.getJson(['jobs', '-n', this.ns])).items as any[]).map((j) => j.metadata.name).sort();
    const changed = synthesize({ modernRelease: VitessRelease.V24_0 });
    try {
      await this.apply(path.join(changed, this.flow, file));
      await this.runNode();
      const jobs = (await k.getJson(['jobs', '-n', this.ns])).items as any[];
      const initJobs = readManifest(path.join(this.dir, file)).filter((o) => o.kind === 'Job');
      for (const job of initJobs) {
        const named = jobs.filter((j) => j.metadata.labels?.job === job.metadata.labels.job).map((j) => j.metadata.name);
        assert.strictEqual(named.length, 2, `${this.ns}: Job ${job.metadata.labels.job} after applying its changed content: ${named.join(', ')}`);
        assert.ok(named.includes(job.metadata.name), `${this.ns}: the Job ${job.metadata.name} as it was is gone: ${named.join(', ')}`);
      }
      assert.strictEqual(jobs.length, before.length + initJobs.length, `${this.ns}: Jobs after applying the changed ${file}`);
      // The control: the changed Job under the existing Job's name is refused, as Kubernetes
      // refuses any change of a Job's pod template.
      const changedJob = readManifest(path.join(changed, this.flow, file)).find((o) => o.kind === 'Job');
      const control = { ...changedJob, metadata: { ...changedJob.metadata, name: initJobs.find((j) => j.metadata.labels.job === changedJob.metadata.labels.job).metadata.name } };
      const refused = await k.kubectl(['apply', '-n', this.ns, '-f', '-'], { input: JSON.stringify(control) });
      assert.notStrictEqual(refused.code, 0, `${this.ns}: a changed pod template under an existing Job's name was accepted`);
      assert.ok(/field is immutable/.test(refused.stderr), `${this.ns}: ${refused.stderr}`);
      await this.apply(path.join(this.dir, file));
      await this.diff(path.join(this.dir, file));
      log(
        `${this.ns}: ${initJobs.length} Jobs of ${file} with changed content applied as new Jobs beside the old ones; the old file still applies unchanged; ` +
          `the same change under the old name refused (${/The Job "[^"]+" is invalid: spec\.template/.exec(refused.stderr)?.[0]}: ... field is immutable)`,
      );
    } finally {
      fs.rmSync(changed, { recursive: true, force: true });
    }
  }

  /**
   * The Jobs' own calls to the Kubernetes API, run with curl against the API server with a token
   * of each Job's service account: the SplitDiff Job may record its result (PATCH) and read it, and
   * nothing else; the rdonly migration Job may only read it.
   */
  private async checkSplitDiffResultAccess(): Promise<void> {
    const k = this.k;
    const configMap = 'vtworker-splitdiff-test-keyspace-0-result';
    // A Job by its base name (the label `job`; its object name adds a hash of its content).
    const jobScript = async (name: string): Promise<string> =>
      (await k.getJson(['jobs', '-l', `job=${name}`, '-n', this.ns])).items[0].spec.template.spec.containers[0].command[2];
    /** The Job's kube_configmap function, run with a token of `account` and the given calls. */
    const call = async (job: string, account: string, calls: string): Promise<{ code: number | null; out: string }> => {
      const script = await jobScript(job);
      const start = script.indexOf('kube_configmap() {');
      const end = script.indexOf('\n}\n', start);
      assert.ok(start >= 0 && end > start, `${this.ns}: Job/${job} has no kube_configmap function`);
      const sa = fs.mkdtempSync(path.join(os.tmpdir(), 'serviceaccount-'));
      try {
        fs.writeFileSync(path.join(sa, 'token'), (await k.kubectlOk(['create', 'token', account, '-n', this.ns])).trim());
        fs.copyFileSync(path.join(k.dir, 'ca.crt'), path.join(sa, 'ca.crt'));
        fs.writeFileSync(path.join(sa, 'namespace'), this.ns);
        const fn = script.slice(start, end + 3).split('/var/run/secrets/kubernetes.io/serviceaccount').join(sa);
        const env = { PATH: process.env.PATH, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(k.apiserverPort) };
        const result = await runProcess('/bin/bash', ['-c', `set -u\n${fn}\n${calls}`], env, 60000);
        return { code: result.code, out: result.stdout + result.stderr };
      } finally {
        fs.rmSync(sa, { recursive: true, force: true });
      }
    };
    const splitDiff = 'vtworker-splitdiff-test-keyspace-xx-80-80-xx';
    const migrate = 'vtctl-migrateservedtypes-test-keyspace-0-rdonly';
    const recorded = await call(splitDiff, splitDiff, `kube_configmap PATCH ${configMap} '{"data":{"result":"succeeded"}}' >/dev/null && kube_configmap GET ${configMap}`);
    assert.strictEqual(recorded.code, 0, `${this.ns}: the SplitDiff Job cannot record its result:\n${recorded.out}`);
    assert.strictEqual((await k.getJson(['configmap', configMap, '-n', this.ns])).data?.result, 'succeeded', `${this.ns}: the recorded result`);
    const read = await call(migrate, migrate, `kube_configmap GET ${configMap}`);
    assert.strictEqual(read.code, 0, `${this.ns}: the rdonly migration Job cannot read the SplitDiff result:\n${read.out}`);
    assert.ok(/"result": *"succeeded"/.test(read.out), `${this.ns}: the rdonly migration Job read: ${read.out}`);
    // Refused: the migration Job writing, the SplitDiff Job touching another ConfigMap (403: curl --fail exits 22).
    const write = await call(migrate, migrate, `kube_configmap PATCH ${configMap} '{"data":{"result":"running"}}'`);
    assert.strictEqual(write.code, 22, `${this.ns}: the rdonly migration Job could write the SplitDiff result:\n${write.out}`);
    await k.kubectlOk(['create', 'configmap', 'other', '-n', this.ns]);
    const other = await call(splitDiff, splitDiff, `kube_configmap GET other`);
    assert.strictEqual(other.code, 22, `${this.ns}: the SplitDiff Job could read another ConfigMap:\n${other.out}`);
    log(`${this.ns}: the SplitDiff Job records and reads its result through the API server, the rdonly migration only reads it; both are refused anything else`);
  }

  /**
   * `kubectl delete -f` of the resharded shard's tablets file removes their StatefulSets and pods
   * and keeps their PVCs.
   */
  private async checkDeleteOldTablets(): Promise<void> {
    const k = this.k;
    const file = path.join(this.dir, this.flow === 'cluster' ? 'blue-01-tablets-customer--80.k8s.yaml' : '01-tablets-test-keyspace-0.k8s.yaml');
    const tablets = readManifest(file)
      .filter((o) => o.kind === 'StatefulSet')
      .map((o) => `${o.metadata.name}-0`)
      .sort();
    const claims = async () =>
      ((await k.getJson(['pvc', '-n', this.ns])).items as any[]).map((p) => p.metadata.name).filter((n) => tablets.some((t) => n === `vtdataroot-${t}`)).sort();
    const before = await claims();
    await k.kubectlOk(['delete', '-n', this.ns, '-f', file, '--wait=false']);
    let pods: string[] = [];
    for (let i = 0; i < 60; i++) {
      await this.runNode();
      pods = ((await k.getJson(['pods', '-n', this.ns])).items as any[]).map((p) => p.metadata.name).filter((n) => tablets.includes(n));
      if (pods.length === 0) break;
      await sleep(500);
    }
    assert.deepStrictEqual(pods, [], `${this.ns}: the old tablets' pods stay after kubectl delete -f`);
    assert.deepStrictEqual(await claims(), before, `${this.ns}: the old tablets' PVCs changed`);
    assert.strictEqual(before.length, tablets.length, `${this.ns}: the old tablets had ${before.length} PVCs, not one each`);
    assert.ok(tablets.length >= 3, `${this.ns}: the old tablets' file has ${tablets.length} tablets`);
  }
}

/** A namespace's pods, ReplicaSets and StatefulSets. */
interface Workloads {
  readonly pods: any[];
  readonly replicaSets: any[];
  readonly statefulSets: any[];
}

/** The pods that a workload named `name` (StatefulSet or Deployment) owns, directly or through its ReplicaSet. */
function podsOf(name: string, workloads: Workloads): string[] {
  const replicaSets = workloads.replicaSets
    .filter((rs) => rs.metadata.ownerReferences?.some((o: any) => o.kind === 'Deployment' && o.name === name))
    .map((rs) => rs.metadata.name);
  return workloads.pods
    .filter((p) =>
      p.metadata.ownerReferences?.some(
        (o: any) => (o.kind === 'StatefulSet' && o.name === name) || (o.kind === 'ReplicaSet' && replicaSets.includes(o.name)),
      ),
    )
    .map((p) => p.metadata.name)
    .sort();
}

/**
 * The pods a Service (or the NetworkPolicy or PodDisruptionBudget of the same name) is meant for:
 * a StatefulSet's governing Service and its client Service (`<name>-client`) its pods; a
 * Deployment's Service of the same name, and a vtgate Deployment's MySQL Service
 * (`<name>-mysql`), its pods; the cluster-wide vtgate MySQL Service (`[<cluster>-]vtgate-mysql`,
 * with the cluster's instance label in `labels`) the vtgate pods of every cell of its cluster.
 */
function intendedPods(name: string, workloads: Workloads, labels?: Record<string, string>): string[] {
  const statefulSets = workloads.statefulSets.filter(
    (s) => s.spec.serviceName === name || s.spec.serviceName === name.replace(/-client$/, ''),
  );
  if (statefulSets.length > 0) {
    return statefulSets.flatMap((s) => podsOf(s.metadata.name, workloads)).sort();
  }
  if (/(^|-)vtgate-mysql$/.test(name)) {
    return workloads.pods
      .filter((p) => p.metadata.labels?.component === 'vtgate' && p.metadata.labels?.[INSTANCE_LABEL] === labels?.[INSTANCE_LABEL])
      .map((p) => p.metadata.name)
      .sort();
  }
  const mysqlOf = /^(.*-vtgate-[a-z0-9]+|vtgate-[a-z0-9]+)-mysql$/.exec(name);
  return podsOf(mysqlOf ? mysqlOf[1] : name, workloads);
}

/** A label selector's `matchLabels` as kubectl's `-l` argument (`''` selects everything). */
function labelSelector(selector: { matchLabels?: Record<string, string> }): string {
  return Object.entries(selector.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

let nextIp = 1;
/** A pod address for the status (data only; nothing is sent to it). */
function podIp(): string {
  const n = nextIp++;
  return `10.244.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const dist = synthesize();
  const counts: Counts = { files: 0, applied: 0, files2: 0, reapplied: 0, pods: 0, pvcs: 0, jobs: 0 };
  const k = await RealKubernetes.start();
  let ok = false;
  try {
    log(`Kubernetes ${k.binaries.kubernetesVersion} and etcd ${k.binaries.etcdVersion} on 127.0.0.1 (${((Date.now() - started) / 1000).toFixed(1)} s to start)`);
    await k.kubectlOk(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE, 'topology.kubernetes.io/zone': 'zone-a' } } }),
    });
    for (const flow of ['vtworker', 'vreplication', 'cluster']) {
      for (const mode of ['client', 'server'] as const) {
        await new Flow(k, flow, mode, dist, counts).run();
      }
    }
    ok = true;
  } finally {
    if (!ok) {
      for (const name of ['kube-apiserver', 'kube-controller-manager']) {
        process.stderr.write(`--- last lines of ${name}:\n${k.logTail(name, 15)}\n`);
      }
    }
    await k.stop();
    fs.rmSync(dist, { recursive: true, force: true });
  }
  log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  log(
    `kubernetes e2e: Kubernetes ${k.binaries.kubernetesVersion}: ${counts.applied} of ${counts.files} files applied, ` +
      `${counts.reapplied} of ${counts.files2} re-applied unchanged, ${counts.pods} pods and ${counts.pvcs} PVCs created by the controllers, ` +
      `${counts.jobs} Jobs created`,
  );
}

main().catch((error) => {
  process.stderr.write(`kubernetes e2e: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
