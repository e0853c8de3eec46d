import { Chart, Testing } from 'cdk8s';
import {
  EtcdCell,
  IVtctld,
  PodExtensions,
  TabletShard,
  UserIds,
  VitessRelease,
  VtctlJob,
  Vtctld,
  Vtgate,
  Vtorc,
  VtworkerJob,
  WorkloadOptions,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { baseName, testChart } from './util/synth';

/** Every workload option but the PodExtensions (pod-extensions.test.ts), none at its default (a new option does not compile until it is here). */
const ALL_OPTIONS: Required<Omit<WorkloadOptions, keyof PodExtensions>> = {
  nodeSelector: { 'node-pool': 'vitess', 'kubernetes.io/os': 'linux' },
  tolerations: [
    { key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
  ],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
      },
    },
  },
  priorityClassName: 'vitess-high',
  imagePullSecrets: ['registry-credentials', 'mirror.example.com'],
  userIds: UserIds.PLATFORM_ASSIGNED,
  networkPolicy: true,
};

/** The pod security context without user IDs (`UserIds.PLATFORM_ASSIGNED`). */
const PLATFORM_ASSIGNED_SECURITY_CONTEXT = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
/** The pod security context of the `vitess` user (`UserIds.VITESS`, the default). */
const VITESS_SECURITY_CONTEXT = { runAsUser: 999, runAsGroup: 999, fsGroup: 999, ...PLATFORM_ASSIGNED_SECURITY_CONTEXT };
/** The security context of every container. */
const CONTAINER_SECURITY_CONTEXT = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };

/** A component whose pods take workload options. */
interface Component {
  /** The component, as test titles name it. */
  readonly name: string;
  /** Builds it with the options in `chart` and returns the objects whose pod templates they set. */
  readonly build: (chart: Chart, options: WorkloadOptions) => (objects: any[]) => any[];
  /** Whether its pods take `affinity` (command Jobs take the vtctld's options without it). */
  readonly takesAffinity: boolean;
  /** Whether its pods spread across nodes and zones (not a single VTOrc, nor Jobs). */
  readonly spreads: boolean;
  /** Whether every container mounts a writable `/tmp` (etcd writes only to its data volume). */
  readonly mountsTmp: boolean;
}

/** The objects of a kind whose name starts with a prefix. */
function named(kind: string, prefix: string): (objects: any[]) => any[] {
  return (objects) => objects.filter((o) => o.kind === kind && o.metadata.name.startsWith(prefix));
}

/** A Vtctld of cell `test` with the options, and the global topology it needs. */
function vtctldWith(chart: Chart, options: WorkloadOptions): { globalTopology: EtcdCell; vtctld: Vtctld } {
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  return { globalTopology, vtctld: new Vtctld(chart, 'Vtctld', { globalTopology, cell: 'test', ...options }) };
}

const COMPONENTS: readonly Component[] = [
  {
    name: 'EtcdCell',
    build: (chart, options) => {
      new EtcdCell(chart, 'Etcd', { cell: 'test', ...options });
      return named('StatefulSet', 'etcd-test');
    },
    takesAffinity: true,
    spreads: true,
    mountsTmp: false,
  },
  {
    name: 'Vtctld',
    build: (chart, options) => {
      vtctldWith(chart, options);
      return named('Deployment', 'vtctld');
    },
    takesAffinity: true,
    spreads: true,
    mountsTmp: true,
  },
  {
    name: 'TabletShard',
    build: (chart, options) => {
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      new TabletShard(chart, 'Shard', {
        globalTopology,
        cell: 'test',
        keyspace: 'commerce',
        shard: '0',
        replicaCount: 2,
        rdonlyCount: 1,
        ...options,
      });
      return named('StatefulSet', 'vttablet-');
    },
    takesAffinity: true,
    spreads: true,
    mountsTmp: true,
  },
  {
    name: 'Vtgate',
    build: (chart, options) => {
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', ...options });
      return named('Deployment', 'vtgate-test');
    },
    takesAffinity: true,
    spreads: true,
    mountsTmp: true,
  },
  {
    name: 'Vtorc',
    build: (chart, options) => {
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      new Vtorc(chart, 'Vtorc', { release: VitessRelease.V22_0, globalTopology, ...options });
      return named('Deployment', 'vtorc');
    },
    takesAffinity: true,
    spreads: false,
    mountsTmp: true,
  },
  {
    name: 'VtctlJob (options of its vtctld)',
    build: (chart, options) => {
      const { vtctld } = vtctldWith(chart, options);
      new VtctlJob(chart, 'Job', { vtctld, jobName: 'vtctl-rebuildvschemagraph', commands: [['RebuildVSchemaGraph']] });
      return named('Job', 'vtctl-rebuildvschemagraph');
    },
    takesAffinity: false,
    spreads: false,
    mountsTmp: true,
  },
  {
    name: 'VtworkerJob (options of its vtctld)',
    build: (chart, options) => {
      const { globalTopology, vtctld } = vtctldWith(chart, options);
      new VtworkerJob(chart, 'Worker', { vtctld, globalTopology, cell: 'test', command: 'SplitClone', keyspace: 'commerce', shards: ['0'] });
      return named('Job', 'vtworker-splitclone-commerce-0');
    },
    takesAffinity: false,
    spreads: false,
    mountsTmp: true,
  },
  {
    name: 'TabletShard.initPrimaryJob (options of its vtctld)',
    build: (chart, options) => {
      const { globalTopology, vtctld } = vtctldWith(chart, options);
      const shard = new TabletShard(chart, 'Shard', { globalTopology, cell: 'test', keyspace: 'commerce', shard: '0', replicaCount: 1, rdonlyCount: 0 });
      shard.initPrimaryJob(chart, 'InitPrimary', vtctld);
      return named('Job', 'vtctl-initshardmaster-commerce-0');
    },
    takesAffinity: false,
    spreads: false,
    mountsTmp: true,
  },
];

/** Builds a component in a fresh chart: all its synthesized objects and those the options set. */
function synth(component: Component, options: WorkloadOptions): { objects: any[]; workloads: any[] } {
  const chart = testChart();
  const select = component.build(chart, options);
  const objects = Testing.synth(chart);
  const workloads = select(objects);
  // A selection that finds nothing would let every assertion below pass.
  expect(workloads.length).toBeGreaterThan(0);
  return { objects, workloads };
}

describe.each(COMPONENTS.map((c) => [c.name, c] as const))('workload options of %s', (_name, component) => {
  test('by default: the vitess user, any node, no priority class, no pull secrets', () => {
    // WHEN
    const { workloads } = synth(component, {});
    // THEN
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      expect(pod.securityContext).toEqual(VITESS_SECURITY_CONTEXT);
      expect(pod.nodeSelector).toBeUndefined();
      expect(pod.tolerations).toBeUndefined();
      expect(pod.affinity).toBeUndefined();
      expect(pod.priorityClassName).toBeUndefined();
      expect(pod.imagePullSecrets).toBeUndefined();
      if (component.spreads) {
        expect(pod.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      } else {
        expect(pod.topologySpreadConstraints).toBeUndefined();
      }
    }
  });

  test('every option lands in the pod spec, and the spread stays', () => {
    // GIVEN
    const defaults = synth(component, {}).workloads;
    // WHEN
    const { workloads } = synth(component, ALL_OPTIONS);
    // THEN
    expect(workloads.map((w) => baseName(w))).toEqual(defaults.map((w) => baseName(w)));
    workloads.forEach((workload, i) => {
      const pod = workload.spec.template.spec;
      expect(pod.nodeSelector).toEqual({ 'node-pool': 'vitess', 'kubernetes.io/os': 'linux' });
      expect(pod.tolerations).toEqual([
        { key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
      ]);
      expect(pod.priorityClassName).toBe('vitess-high');
      expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }, { name: 'mirror.example.com' }]);
      expect(pod.securityContext).toEqual(PLATFORM_ASSIGNED_SECURITY_CONTEXT);
      if (component.takesAffinity) {
        expect(pod.affinity).toEqual({
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
            },
          },
        });
      } else {
        expect(pod.affinity).toBeUndefined();
      }
      expect(pod.topologySpreadConstraints).toEqual(defaults[i].spec.template.spec.topologySpreadConstraints);
    });
  });

  test('userIds VITESS is the default', () => {
    const { workloads } = synth(component, { userIds: UserIds.VITESS });
    for (const workload of workloads) {
      expect(workload.spec.template.spec.securityContext).toEqual(VITESS_SECURITY_CONTEXT);
    }
  });

  test('every container is restricted, with a read-only root filesystem, whatever the options', () => {
    for (const options of [{}, ALL_OPTIONS]) {
      for (const workload of synth(component, options).workloads) {
        const pod = workload.spec.template.spec;
        for (const c of pod.containers) {
          expect(c.securityContext).toEqual(CONTAINER_SECURITY_CONTEXT);
          if (component.mountsTmp) {
            expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
          }
        }
        if (component.mountsTmp) {
          expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
        }
      }
    }
  });

  test.each(KUBERNETES_VERSIONS)('with every option, every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(synth(component, ALL_OPTIONS).objects, version)).toEqual([]);
  });
});

/** How each component is built with only the options under test, and the context its errors name. */
const VALIDATED: ReadonlyArray<readonly [string, (options: WorkloadOptions) => void]> = [
  ['EtcdCell', (options) => new EtcdCell(testChart(), 'Etcd', { cell: 'test', ...options })],
  ['Vtctld', (options) => vtctldWith(testChart(), options)],
  [
    'TabletShard',
    (options) => {
      const chart = testChart();
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      new TabletShard(chart, 'Shard', { globalTopology, cell: 'test', keyspace: 'commerce', shard: '0', ...options });
    },
  ],
  [
    'Vtgate',
    (options) => {
      const chart = testChart();
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', ...options });
    },
  ],
  [
    'Vtorc',
    (options) => {
      const chart = testChart();
      const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
      new Vtorc(chart, 'Vtorc', { release: VitessRelease.V22_0, globalTopology, ...options });
    },
  ],
  [
    // A vtctld that is not a Vtctld construct: its job options are checked where a Job uses them.
    'VtctlJob x',
    (options) => {
      const vtctld: IVtctld = { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999', jobOptions: options };
      new VtctlJob(testChart(), 'Job', { vtctld, jobName: 'x', commands: [['RebuildVSchemaGraph']] });
    },
  ],
];

describe.each(VALIDATED)('workload option checks of %s', (context, build) => {
  test.each([
    ['an uppercase letter and an underscore', 'Bad_Name'],
    ['a trailing dash', 'ends-with-dash-'],
    ['254 characters', 'a'.repeat(254)],
  ])('fails for a priorityClassName with %s', (_what, value) => {
    expect(() => build({ priorityClassName: value })).toThrow(
      `${context}: 'priorityClassName' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got '${value}'`,
    );
  });

  test('fails for an imagePullSecrets entry that is not a Secret name', () => {
    expect(() => build({ imagePullSecrets: ['registry-credentials', 'Registry Credentials'] })).toThrow(
      `${context}: 'imagePullSecrets' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got 'Registry Credentials'`,
    );
  });

  test('fails for an unknown userIds value', () => {
    expect(() => build({ userIds: 'root' as UserIds })).toThrow(`${context}: 'userIds' must be one of vitess, platform-assigned, got 'root'`);
  });
});
