// The controllers of the real-Vitess end-to-end test: `kubectl apply -f` of a synthesized file
// starts its Services, StatefulSets, Deployments and Jobs on a PodRuntime, and a reconcile loop
// keeps them as their controllers would: a StatefulSet's pod `<name>-<ordinal>` with its claims
// `<claim>-<name>-<ordinal>` (kept when the pod or the StatefulSet goes), a Deployment's pods
// replaced when deleted, a Job's pods started until one succeeds or `backoffLimit` failed.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'yaml';
import { KubeObject, Pod, PodRuntime } from './pod-runtime';
import { baseName } from './synth';

/** One Job's history. */
export interface JobRun {
  readonly name: string;
  readonly file: string;
  readonly object: KubeObject;
  readonly pods: Pod[];
  failures: number;
  state: 'Active' | 'Complete' | 'Failed';
  readonly done: Promise<'Complete' | 'Failed'>;
  resolve: (state: 'Complete' | 'Failed') => void;
}

interface Workload {
  readonly kind: 'StatefulSet' | 'Deployment';
  readonly object: KubeObject;
  readonly file: string;
  /** Ordinal (StatefulSet) or slot (Deployment) to its current pod. */
  readonly pods: Map<number, Pod>;
  deleted: boolean;
}

/** Reads every object of a YAML file. */
export function readManifest(file: string): KubeObject[] {
  return yaml.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter((d) => d);
}

/** The StatefulSet, Deployment and Job controllers, over one {@link PodRuntime}. */
export class Controllers {
  public readonly jobs: JobRun[] = [];
  private readonly workloads: Workload[] = [];
  private timer: NodeJS.Timeout | undefined;
  private podCounter = 0;

  public constructor(private readonly runtime: PodRuntime, private readonly claimsDir: string) {}

  public start(): void {
    this.timer = setInterval(() => this.reconcile(), 1000);
  }

  public stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** `kubectl apply -f file`: creates what the file holds; existing objects are left as they are. */
  public apply(file: string): void {
    for (const object of readManifest(file)) {
      const name = object.metadata.name;
      switch (object.kind) {
        case 'Service':
          this.runtime.addService(object);
          break;
        case 'StatefulSet':
        case 'Deployment':
          if (!this.workloads.some((w) => w.kind === object.kind && w.object.metadata.name === name && !w.deleted)) {
            this.workloads.push({ kind: object.kind, object, file, pods: new Map(), deleted: false });
          }
          break;
        case 'Job':
          if (!this.jobs.some((j) => j.name === name)) this.addJob(object, file);
          break;
        case 'PodDisruptionBudget':
        case 'NetworkPolicy':
        case 'ConfigMap':
        case 'ServiceAccount':
        case 'Role':
        case 'RoleBinding':
          // Not enforced here (no evictions, no network policy, no API server).
          break;
        default:
          throw new Error(`${path.basename(file)}: kind ${object.kind} is not modelled by the e2e controllers`);
      }
    }
    this.reconcile();
  }

  /** `kubectl delete -f file` of the workloads in it: their pods go (with grace), claims stay. */
  public async delete(file: string): Promise<void> {
    const names = new Set(readManifest(file).map((o) => `${o.kind}/${o.metadata.name}`));
    const pods: Pod[] = [];
    for (const w of this.workloads) {
      if (names.has(`${w.kind}/${w.object.metadata.name}`) && !w.deleted) {
        w.deleted = true;
        pods.push(...w.pods.values());
      }
    }
    await Promise.all(pods.map((p) => this.runtime.deletePod(p)));
  }

  /** `kubectl delete job X` and apply again: the Job runs anew. */
  public rerunJob(name: string): JobRun {
    const old = this.jobs.find((j) => j.name === name);
    if (!old) throw new Error(`no Job ${name}`);
    this.jobs.splice(this.jobs.indexOf(old), 1);
    return this.addJob(old.object, old.file);
  }

  /** Gives a Job up (as `kubectl delete job`): no new pods, the running one is deleted. */
  public async abandonJob(job: JobRun): Promise<void> {
    if (job.state === 'Active') {
      job.state = 'Failed';
      job.resolve('Failed');
    }
    await Promise.all(job.pods.map((p) => this.runtime.deletePod(p)));
  }

  /** The current pods of a StatefulSet or Deployment. */
  public podsOf(kind: 'StatefulSet' | 'Deployment', name: string): Pod[] {
    const w = this.workloads.find((x) => x.kind === kind && x.object.metadata.name === name && !x.deleted);
    return w ? [...w.pods.values()].filter((p) => p.phase !== 'Deleted') : [];
  }

  private addJob(object: KubeObject, file: string): JobRun {
    let resolve!: (state: 'Complete' | 'Failed') => void;
    const done = new Promise<'Complete' | 'Failed'>((r) => (resolve = r));
    // Named by its base name (the label `job`); its pods, as the Job controller names them, after the object.
    const job: JobRun = { name: baseName(object), file, object, pods: [], failures: 0, state: 'Active', done, resolve };
    this.jobs.push(job);
    return job;
  }

  private reconcile(): void {
    for (const w of this.workloads) {
      if (w.deleted) continue;
      const replicas: number = w.object.spec.replicas ?? 1;
      const ordered = w.kind === 'StatefulSet' && (w.object.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
      for (let i = 0; i < replicas; i++) {
        const pod = w.pods.get(i);
        if (pod && pod.phase !== 'Deleted' && pod.phase !== 'Failed' && pod.phase !== 'Succeeded') continue;
        if (ordered && [...Array(i).keys()].some((j) => !w.pods.get(j)?.ready)) break;
        w.pods.set(i, this.startWorkloadPod(w, i));
      }
    }
    for (const job of this.jobs) {
      if (job.state !== 'Active') continue;
      const current = job.pods[job.pods.length - 1];
      if (current && (current.phase === 'Pending' || current.phase === 'Running')) continue;
      if (current?.phase === 'Succeeded') {
        job.state = 'Complete';
        job.resolve('Complete');
        continue;
      }
      if (current) job.failures++;
      if (job.failures > (job.object.spec.backoffLimit ?? 6)) {
        job.state = 'Failed';
        job.resolve('Failed');
        continue;
      }
      const template = job.object.spec.template;
      const podName = `${job.object.metadata.name}-${this.suffix(5)}`;
      job.pods.push(this.runtime.startPod(podName, template.metadata?.labels ?? {}, template.spec));
    }
  }

  private startWorkloadPod(w: Workload, ordinal: number): Pod {
    const template = w.object.spec.template;
    const name = w.object.metadata.name;
    if (w.kind === 'StatefulSet') {
      const podName = `${name}-${ordinal}`;
      const claims: Record<string, string> = {};
      const volumes = [...(template.spec.volumes ?? [])];
      for (const claim of w.object.spec.volumeClaimTemplates ?? []) {
        const claimName = `${claim.metadata.name}-${podName}`;
        claims[claimName] = path.join(this.claimsDir, claimName);
        volumes.push({ name: claim.metadata.name, persistentVolumeClaim: { claimName } });
      }
      const spec = { ...template.spec, volumes, hostname: podName, subdomain: w.object.spec.serviceName };
      return this.runtime.startPod(podName, template.metadata?.labels ?? {}, spec, claims);
    }
    const hash = crypto.createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
    return this.runtime.startPod(`${name}-${hash}-${this.suffix(5)}`, template.metadata?.labels ?? {}, template.spec);
  }

  /** A deterministic stand-in for the controllers' random name suffixes. */
  private suffix(length: number): string {
    const n = this.podCounter++;
    return crypto.createHash('sha256').update(String(n)).digest('hex').slice(0, length).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)]);
  }
}
