import { KUBERNETES_VERSIONS, validateManifest, validateManifests } from './k8s-schema';

const labels = { app: 'web' };

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.25',
            imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'web', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/', port: 'web' } },
            livenessProbe: { tcpSocket: { port: 8080 } },
            resources: { requests: { cpu: 0.5, memory: '1Gi' }, limits: { cpu: '1', memory: 2147483648 } },
          },
        ],
      },
    },
  },
};

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: {
    selector: labels,
    ports: [
      { name: 'mysql', port: 3306, targetPort: 3306 },
      { name: 'web', port: 80, targetPort: 'web' },
    ],
  },
};

const statefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db' },
  spec: {
    serviceName: 'db',
    replicas: 3,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: { app: 'db' } },
    template: {
      metadata: { labels: { app: 'db' } },
      spec: {
        containers: [{ name: 'db', image: 'mysql:8', volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql' }] }],
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
      },
    ],
  },
};

const job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'init' },
  spec: {
    backoffLimit: 4,
    template: {
      spec: {
        restartPolicy: 'OnFailure',
        containers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
      },
    },
  },
};

const pdb = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'db' },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } },
};

function copy<T>(obj: T): any {
  return JSON.parse(JSON.stringify(obj));
}

describe.each(KUBERNETES_VERSIONS)('strict schema check, Kubernetes %s', (version) => {
  test('valid objects pass: Deployment, Service, StatefulSet, Job, PodDisruptionBudget', () => {
    expect(validateManifest(deployment, version)).toEqual([]);
    expect(validateManifest(service, version)).toEqual([]);
    expect(validateManifest(statefulSet, version)).toEqual([]);
    expect(validateManifest(job, version)).toEqual([]);
    expect(validateManifest(pdb, version)).toEqual([]);
    expect(validateManifests([deployment, service, statefulSet, job, pdb], version)).toEqual([]);
  });

  test('IntOrString and Quantity accept a string or a number, nothing else', () => {
    const percent = { ...pdb, spec: { ...pdb.spec, maxUnavailable: '50%' } };
    expect(validateManifest(percent, version)).toEqual([]);
    const bad = copy(service);
    bad.spec.ports[0].targetPort = true;
    bad.spec.ports[1].targetPort = 1.5;
    expect(validateManifest(bad, version)).toEqual([
      'Service/web: /spec/ports/0/targetPort: must be string or integer',
      'Service/web: /spec/ports/1/targetPort: must be string or integer',
    ]);
    const memory = copy(statefulSet);
    memory.spec.volumeClaimTemplates[0].spec.resources.requests.storage = { gi: 10 };
    expect(validateManifest(memory, version)).toEqual([
      'StatefulSet/db: /spec/volumeClaimTemplates/0/spec/resources/requests/storage: must be string or number',
    ]);
  });

  test('an unknown field fails, naming the field', () => {
    const bad = copy(deployment);
    bad.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    expect(validateManifest(bad, version)).toEqual([
      'Deployment/web: /spec/template/spec/containers/0/imagePullPolicyy: must NOT have additional properties (imagePullPolicyy)',
    ]);
    const claim = copy(statefulSet);
    claim.spec.volumeClaimTemplates[0].spec.storageClass = 'fast';
    claim.spec.volumeClaimTemplates[0].metadata.label = { a: 'b' };
    expect(validateManifest(claim, version)).toEqual([
      'StatefulSet/db: /spec/volumeClaimTemplates/0/metadata/label: must NOT have additional properties (label)',
      'StatefulSet/db: /spec/volumeClaimTemplates/0/spec/storageClass: must NOT have additional properties (storageClass)',
    ]);
  });

  test('a wrong type or a missing required field fails', () => {
    const bad = { ...deployment, spec: { ...deployment.spec, replicas: '3' } };
    expect(validateManifest(bad, version)).toEqual(['Deployment/web: /spec/replicas: must be integer']);
    const noImage = copy(job);
    delete noImage.spec.template.spec.containers[0].name;
    expect(validateManifest(noImage, version)).toEqual([
      "Job/init: /spec/template/spec/containers/0: must have required property 'name'",
    ]);
  });

  test('an apiVersion and kind without a schema fails', () => {
    expect(validateManifest({ apiVersion: 'apps/v9', kind: 'Foo', metadata: { name: 'f' } }, version)).toEqual([
      `Foo/f: no schema for apps/v9 Foo in Kubernetes ${version}`,
    ]);
    expect(validateManifest({ ...pdb, apiVersion: 'policy/v1beta1' }, version)).toEqual([
      `PodDisruptionBudget/db: no schema for policy/v1beta1 PodDisruptionBudget in Kubernetes ${version}`,
    ]);
  });

  test('validateManifests concatenates the errors of all objects', () => {
    const badJob = copy(job);
    badJob.spec.backoffLimit = 'four';
    expect(validateManifests([deployment, badJob, { ...service, kind: 'Servic' }], version)).toEqual([
      'Job/init: /spec/backoffLimit: must be integer',
      `Servic/web: no schema for v1 Servic in Kubernetes ${version}`,
    ]);
  });
});

test('the versions differ: StatefulSet.spec.serviceName is required in v1.27.0 only', () => {
  const headless = copy(statefulSet);
  delete headless.spec.serviceName;
  expect(validateManifest(headless, 'v1.27.0')).toEqual(["StatefulSet/db: /spec: must have required property 'serviceName'"]);
  expect(validateManifest(headless, 'v1.34.0')).toEqual([]);
});
