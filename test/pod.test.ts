import { execFile } from 'child_process';
import * as http from 'http';
import { AddressInfo } from 'net';
import { Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { EtcdCell, TabletShard, UserIds, VitessRelease, VtctlJob, Vtctld, Vtgate, Vtorc, VtworkerJob } from '../lib';
import {
  DAEMON_READINESS_TIMING,
  HTTP_CHECK_SECONDS,
  TMP_MOUNT,
  TMP_VOLUME,
  VITESS_PODS,
  createNetworkPolicy,
  daemonProbes,
  debugHealthBodyProbe,
  debugHealthStatusProbe,
  httpBodyCheckScript,
  httpBodyProbe,
  ingressRule,
  fieldEnv,
  resources,
  restrictedContainerSecurityContext,
  scrapeAnnotations,
  spreadConstraints,
  validateQuantity,
  validateResources,
  vitessPodSecurityContext,
  workloadPodSpec,
} from '../lib/internal/pod';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { container, findObject, testChart } from './util/synth';

describe('pod building blocks', () => {
  test('Vitess pods run as the numeric vitess user by default', () => {
    expect(vitessPodSecurityContext()).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(vitessPodSecurityContext(UserIds.VITESS)).toEqual(vitessPodSecurityContext());
  });

  test('with platform-assigned IDs the pods name no user, group or fsGroup but stay non-root', () => {
    expect(vitessPodSecurityContext(UserIds.PLATFORM_ASSIGNED)).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('containers: no privilege escalation, no capabilities, a read-only root filesystem', () => {
    expect(restrictedContainerSecurityContext()).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
  });

  test('a writable /tmp is an emptyDir', () => {
    expect(TMP_VOLUME).toEqual({ name: 'tmp', emptyDir: {} });
    expect(TMP_MOUNT).toEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  test('requests and a memory limit, no CPU limit', () => {
    const r = resources('100m', '128Mi', '256Mi');
    expect(r.requests!.cpu.value).toBe('100m');
    expect(r.requests!.memory.value).toBe('128Mi');
    expect(Object.keys(r.limits!)).toEqual(['memory']);
    expect(r.limits!.memory.value).toBe('256Mi');
  });

  test('POD_IP from the downward API', () => {
    expect(fieldEnv('POD_IP', 'status.podIP')).toEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  });

  test('spread across nodes and zones: skew 1, preferred, on the given labels', () => {
    // GIVEN
    const labels = { app: 'vitess', component: 'vtgate' };
    // WHEN
    const constraints = spreadConstraints(labels);
    // THEN
    expect(constraints).toEqual([
      { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
      { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
    ]);
  });

  test('Prometheus scrape annotations name the port and /metrics, or another path', () => {
    expect(scrapeAnnotations(15000)).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15000',
      'prometheus.io/path': '/metrics',
    });
    expect(scrapeAnnotations(2381, '/custom')['prometheus.io/path']).toBe('/custom');
  });
});

describe('workloadPodSpec', () => {
  test('without options: only the vitess security context', () => {
    // WHEN
    const spec = workloadPodSpec('Test', {});
    // THEN
    expect(spec).toEqual({ securityContext: vitessPodSecurityContext() });
  });

  test('every option lands in its pod spec field', () => {
    // GIVEN
    const affinity: k8s.Affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
        },
      },
    };
    // WHEN
    const spec = workloadPodSpec('Test', {
      nodeSelector: { pool: 'vitess' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
      affinity,
      priorityClassName: 'vitess-critical',
      imagePullSecrets: ['registry-a', 'registry-b'],
      userIds: UserIds.PLATFORM_ASSIGNED,
    });
    // THEN
    expect(spec).toEqual({
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      nodeSelector: { pool: 'vitess' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
      affinity,
      priorityClassName: 'vitess-critical',
      imagePullSecrets: [{ name: 'registry-a' }, { name: 'registry-b' }],
    });
  });

  test('an empty list of pull secrets sets none', () => {
    expect(workloadPodSpec('Test', { imagePullSecrets: [] }).imagePullSecrets).toBeUndefined();
  });

  test('fails for a priority class that is not a DNS-1123 subdomain', () => {
    expect(() => workloadPodSpec('Test', { priorityClassName: 'Bad_Name' })).toThrow(
      /^Test: 'priorityClassName' must be a DNS-1123 subdomain .*got 'Bad_Name'$/,
    );
  });

  test('fails for a pull secret that is not a DNS-1123 subdomain', () => {
    expect(() => workloadPodSpec('Test', { imagePullSecrets: ['ok', 'not ok'] })).toThrow(
      /^Test: 'imagePullSecrets' must be a DNS-1123 subdomain .*got 'not ok'$/,
    );
  });

  test('fails for an unknown userIds value', () => {
    expect(() => workloadPodSpec('Test', { userIds: 'root' as UserIds })).toThrow(
      /^Test: 'userIds' must be one of vitess, platform-assigned, got 'root'$/,
    );
  });
});

describe('NetworkPolicy building blocks', () => {
  test('an ingress rule opens TCP ports to the given peers', () => {
    // WHEN
    const rule = ingressRule([3306, 15991], [{ podSelector: VITESS_PODS }]);
    // THEN
    expect(rule.ports!.map((p) => [p.protocol, p.port!.value])).toEqual([
      ['TCP', 3306],
      ['TCP', 15991],
    ]);
    expect(rule.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }]);
  });

  test('an ingress rule without peers admits every source', () => {
    expect(ingressRule([15000]).from).toBeUndefined();
  });

  test('a NetworkPolicy restricts ingress only, to the selected pods', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    createNetworkPolicy(chart, 'vtctld', { app: 'vitess', component: 'vtctld', extra: 'x' }, { app: 'vitess', component: 'vtctld' }, [
      ingressRule([15999], [{ podSelector: VITESS_PODS }]),
      ingressRule([15000]),
    ]);
    // THEN
    const objects = Testing.synth(chart);
    expect(objects).toEqual([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'vtctld', labels: { app: 'vitess', component: 'vtctld', extra: 'x' } },
        spec: {
          podSelector: { matchLabels: { app: 'vitess', component: 'vtctld' } },
          policyTypes: ['Ingress'],
          ingress: [
            { ports: [{ protocol: 'TCP', port: 15999 }], from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }] },
            { ports: [{ protocol: 'TCP', port: 15000 }] },
          ],
        },
      },
    ]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });
});

describe('resource checks', () => {
  const q = (value: string) => k8s.Quantity.fromString(value);

  test.each(['250m', '2', '0.5', '.5', '512Mi', '10Gi', '1e3', '1E-3', '100k', '1.5G'])('a quantity: %s', (value) => {
    expect(() => validateQuantity('X', 'storageSize', value)).not.toThrow();
  });

  test.each(['10 Gi', '10GB', '-1', 'Gi', '1.2.3', '', '1mi', '1Ki5'])('fails for a value that is not a quantity: "%s"', (value) => {
    expect(() => validateQuantity('X', 'storageSize', value)).toThrow(
      `X: 'storageSize' must be a Kubernetes quantity such as '250m', '2', '512Mi' or '10Gi', got '${value}'`,
    );
  });

  test('requests and limits: valid quantities with no limit below its request', () => {
    expect(() => validateResources('X', 'resources', undefined)).not.toThrow();
    expect(() =>
      validateResources('X', 'resources', { requests: { cpu: q('500m'), memory: q('1Gi') }, limits: { cpu: q('1'), memory: q('1024Mi') } }),
    ).not.toThrow();
    expect(() => validateResources('X', 'resources', { requests: { cpu: q('1x') } })).toThrow(
      "X: 'resources.requests.cpu' must be a Kubernetes quantity such as '250m', '2', '512Mi' or '10Gi', got '1x'",
    );
    expect(() => validateResources('X', 'resources', { limits: { memory: q('1 Gi') } })).toThrow(
      "X: 'resources.limits.memory' must be a Kubernetes quantity",
    );
  });

  test('fails for a limit below its request, comparing across units', () => {
    expect(() => validateResources('X', 'vttabletResources', { requests: { memory: q('2Gi') }, limits: { memory: q('2000Mi') } })).toThrow(
      "X: 'vttabletResources.limits.memory' (2000Mi) must not be below 'vttabletResources.requests.memory' (2Gi)",
    );
    expect(() => validateResources('X', 'resources', { requests: { cpu: q('1.5') }, limits: { cpu: q('1200m') } })).toThrow(
      "X: 'resources.limits.cpu' (1200m) must not be below 'resources.requests.cpu' (1.5)",
    );
    expect(() => validateResources('X', 'resources', { requests: { memory: q('1G') }, limits: { memory: q('1Gi') } })).not.toThrow();
  });
});

describe('every component checks its resources and storage sizes', () => {
  const q = (value: string) => k8s.Quantity.fromString(value);
  const low = { requests: { memory: q('1Gi') }, limits: { memory: q('512Mi') } };
  function cluster() {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const vtctld = new Vtctld(chart, 'Vtctld', { globalTopology, cell: 'test' });
    return { chart, globalTopology, vtctld };
  }
  test.each([
    ['EtcdCell', 'resources', ({ chart }: any) => new EtcdCell(chart, 'E', { cell: 'test', resources: low })],
    ['EtcdCell', 'storageSize', ({ chart }: any) => new EtcdCell(chart, 'E', { cell: 'test', storageSize: '1 GB' })],
    ['Vtctld', 'resources', ({ chart, globalTopology }: any) => new Vtctld(chart, 'V', { globalTopology, cell: 'test', name: 'v2', resources: low })],
    ['Vtgate', 'resources', ({ chart, globalTopology }: any) => new Vtgate(chart, 'G', { globalTopology, cell: 'test', resources: low })],
    [
      'Vtorc',
      'resources',
      ({ chart }: any) =>
        new Vtorc(chart, 'O', { release: VitessRelease.V22_0, globalTopology: new EtcdCell(chart, 'G22', { cell: 'g' }), resources: low }),
    ],
    [
      'TabletShard',
      'vttabletResources',
      ({ chart, globalTopology }: any) =>
        new TabletShard(chart, 'S', { globalTopology, cell: 'test', keyspace: 'ks', shard: '0', vttabletResources: low }),
    ],
    [
      'TabletShard',
      'mysqldResources',
      ({ chart, globalTopology }: any) =>
        new TabletShard(chart, 'S', { globalTopology, cell: 'test', keyspace: 'ks', shard: '0', mysqldResources: low }),
    ],
    [
      'TabletShard',
      'storageSize',
      ({ chart, globalTopology }: any) => new TabletShard(chart, 'S', { globalTopology, cell: 'test', keyspace: 'ks', shard: '0', storageSize: 'ten' }),
    ],
    ['VtctlJob', 'resources', ({ chart, vtctld }: any) => new VtctlJob(chart, 'J', { vtctld, jobName: 'j', commands: [['GetCellInfoNames']], resources: low })],
    [
      'VtworkerJob',
      'resources',
      ({ chart, vtctld, globalTopology }: any) =>
        new VtworkerJob(chart, 'W', { vtctld, globalTopology, cell: 'test', keyspace: 'ks', shards: ['0'], command: 'SplitClone', resources: low }),
    ],
  ])('%s checks %s', (context, prop, build) => {
    expect(() => build(cluster())).toThrow(new RegExp(`^${context}: '${prop}(\\.limits\\.memory' \\(512Mi\\) must not be below|' must be a Kubernetes quantity)`));
  });
});

/** One request the test server received. */
interface Received {
  readonly method?: string;
  readonly url?: string;
  readonly httpVersion: string;
}

/**
 * Runs `run` with an HTTP server on 127.0.0.1 (an ephemeral port) that answers with `handler`,
 * and closes the server and every connection to it afterwards, whatever `run` does.
 */
async function withServer<T>(handler: http.RequestListener, run: (port: number, received: Received[]) => Promise<T>): Promise<T> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    received.push({ method: req.method, url: req.url, httpVersion: req.httpVersion });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  try {
    return await run((server.address() as AddressInfo).port, received);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A handler that answers `status` with `body` (Content-Length set, as Go's server sets it). */
function answer(status: number, body: string, contentType = 'text/plain'): http.RequestListener {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** Runs a bash script; resolves to its exit code (-1 when it was killed) and how long it ran. */
function runBash(script: string): Promise<{ code: number; ms: number }> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile('/bin/bash', ['-c', script], { timeout: 20_000 }, (error) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, ms: Date.now() - start });
    });
  });
}

/** The bash script of an exec probe, checked to be `/bin/bash -c`, aimed at `port` instead of `fromPort`. */
function probeScriptFor(probe: any, fromPort: number, port: number): string {
  expect(probe.httpGet).toBeUndefined();
  expect(probe.exec.command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
  const script: string = probe.exec.command[2];
  const target = `/dev/tcp/127.0.0.1/${fromPort} `;
  expect(script.split(target)).toHaveLength(2);
  return script.replace(target, `/dev/tcp/127.0.0.1/${port} `);
}

/** A port on 127.0.0.1 that nothing listens on (one the system just handed out and took back). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * vtgate's `/debug/vars` as Go's expvar handler writes it: `{`, then one `"name": value` per line,
 * joined by `,\n` (src/expvar/expvar.go:134-164 and 358-361 in Go 1.26; older Go releases write
 * the same lines from expvarHandler with `fmt.Fprintf(w, "%q: %s", kv.Key, kv.Value)`), served at
 * /debug/vars by go/vt/servenv/exporter.go:110 at v0.22.4 and by the standard expvar handler at
 * v0.9.0. The `HealthcheckConnections` gauge is written as Vitess writes it: one line
 * `{"<keyspace>.<shard>.<type>": <n>, ...}` (go/stats/counters.go:272-291 at v0.9.0, v0.22.1 and
 * v0.22.4), with a key only for a count of at least one (go/vt/discovery/healthcheck.go:995-1008 at
 * v0.22.4 and v0.22.1, go/vt/discovery/legacy_healthcheck.go:431-444 at v0.9.0).
 */
function debugVars(healthcheckConnections: string | undefined): string {
  const lines = [
    '"BuildGitBranch": "HEAD"',
    '"ErrorsByCode": {"All": [0, 0, 0], "UNAVAILABLE": [0, 0, 0]}',
    '"HealthcheckChecksum": 1234567',
    ...(healthcheckConnections === undefined ? [] : [`"HealthcheckConnections": ${healthcheckConnections}`]),
    ...Array.from({ length: 300 }, (_, i) => `"QueriesProcessedByTable${i}": {"Select.commerce.customer": ${i}}`),
    '"cmdline": ["/vt/bin/vtgate", "--port=15001"]',
  ];
  return `{\n${lines.join(',\n')}\n}\n`;
}

describe('readiness by the body of an HTTP answer', () => {
  const script = (port: number) => httpBodyCheckScript(port, '/debug/health', '^ok$');

  test('one bash script with bounded reads and a bounded loop, aimed at 127.0.0.1 only', () => {
    const text = script(15000);
    expect(text).toContain('exec 3<>/dev/tcp/127.0.0.1/15000 || exit 1');
    expect(text).toContain("printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' /debug/health >&3 || exit 1");
    expect(text).toContain(`deadline=$((SECONDS + ${HTTP_CHECK_SECONDS}))`);
    expect(text).toContain('for ((i = 0; i < 100000 && SECONDS < deadline; i++)); do');
    expect(text).not.toMatch(/\bwhile\b|\buntil\b|curl|wget/);
    // Every read waits at most one second.
    expect(text.match(/\bread\b[^\n]*/g)).toEqual(['read -r -t 1 line <&3 || exit 1', 'read -r -t 1 line <&3']);
    // The script ends before the probe's timeout: the reads stop at the deadline, the last one a second later.
    expect(HTTP_CHECK_SECONDS + 1).toBeLessThan(DAEMON_READINESS_TIMING.timeoutSeconds);
  });

  test('succeeds when the answer is 200 with the body ok, sent as an HTTP/1.0 GET', async () => {
    await withServer(answer(200, 'ok'), async (port, received) => {
      expect((await runBash(script(port))).code).toBe(0);
      expect(received).toEqual([{ method: 'GET', url: '/debug/health', httpVersion: '1.0' }]);
    });
  });

  test('fails when the answer is 200 with the body not ok', async () => {
    await withServer(answer(200, 'not ok'), async (port) => {
      expect((await runBash(script(port))).code).toBe(1);
    });
  });

  test('fails when the body is ok but the status is not 200', async () => {
    for (const status of [403, 500, 503]) {
      await withServer(answer(status, 'ok'), async (port) => {
        expect((await runBash(script(port))).code).toBe(1);
      });
    }
  });

  test('fails when nothing listens on the port', async () => {
    expect((await runBash(script(await closedPort()))).code).toBe(1);
  });

  test('finds the line among many and stops reading there', async () => {
    const pattern = '^"HealthcheckConnections": *\\{.*": *[1-9]';
    await withServer(answer(200, debugVars('{"commerce.0.primary": 1}'), 'application/json'), async (port) => {
      expect((await runBash(httpBodyCheckScript(port, '/debug/vars', pattern))).code).toBe(0);
    });
    await withServer(answer(200, debugVars('{}'), 'application/json'), async (port) => {
      expect((await runBash(httpBodyCheckScript(port, '/debug/vars', pattern))).code).toBe(1);
    });
  });

  test('gives up before the probe timeout when the server answers and then stalls', async () => {
    // GIVEN a server that sends the status and a header, then nothing more and keeps the connection open
    const stall: http.RequestListener = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('n');
    };
    await withServer(stall, async (port) => {
      // WHEN the probe script runs
      const { code, ms } = await runBash(script(port));
      // THEN it fails by itself, before the kubelet's timeout
      expect(code).toBe(1);
      expect(ms).toBeLessThan(DAEMON_READINESS_TIMING.timeoutSeconds * 1000);
    });
  }, 15_000);

  test('gives up at its deadline when the server keeps sending lines that do not match', async () => {
    // GIVEN a server that sends a line every 200 ms and never ends its answer
    const trickle: http.RequestListener = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const timer = setInterval(() => res.write('not ok\n'), 200);
      res.on('close', () => clearInterval(timer));
    };
    await withServer(trickle, async (port) => {
      // WHEN the probe script runs
      const { code, ms } = await runBash(script(port));
      // THEN it stops reading at its deadline, before the kubelet's timeout
      expect(code).toBe(1);
      expect(ms).toBeGreaterThanOrEqual((HTTP_CHECK_SECONDS - 1) * 1000);
      expect(ms).toBeLessThan(DAEMON_READINESS_TIMING.timeoutSeconds * 1000);
    });
  }, 15_000);

  test('an exec probe of /bin/bash -c with the script and the timing given', () => {
    const probe = httpBodyProbe(15001, '/debug/vars', '^x', DAEMON_READINESS_TIMING);
    expect(probe).toEqual({
      exec: { command: ['/bin/bash', '-c', httpBodyCheckScript(15001, '/debug/vars', '^x')] },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
  });

  test('fails for a bad port, path or pattern', () => {
    expect(() => httpBodyCheckScript(0, '/debug/health', '^ok$')).toThrow(
      "httpBodyCheckScript: 'port' must be a whole number from 1 to 65535, got 0",
    );
    expect(() => httpBodyCheckScript(15000, "debug/health'; rm -rf /", '^ok$')).toThrow(
      "httpBodyCheckScript: 'path' must be an absolute URL path of letters, digits and _./-, got 'debug/health'; rm -rf /'",
    );
    expect(() => httpBodyCheckScript(15000, '/debug/health', 'a\nb')).toThrow(
      "httpBodyCheckScript: 'bodyLinePattern' must be one non-empty line, got 'a\nb'",
    );
  });
});

describe('daemon probes', () => {
  test('readiness as given, liveness on /debug/vars or the given path after 30 s', () => {
    const readiness = debugHealthStatusProbe(15000);
    expect(daemonProbes(15000, readiness)).toEqual({
      readinessProbe: readiness,
      livenessProbe: {
        httpGet: { path: '/debug/vars', port: k8s.IntOrString.fromNumber(15000) },
        initialDelaySeconds: 30,
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold: 6,
      },
    });
    expect(daemonProbes(15000, readiness, '/debug/liveness').livenessProbe!.httpGet!.path).toBe('/debug/liveness');
  });

  test('/debug/health by its status (VTOrc) is an HTTP probe; by its body (vtctld) a bash script', () => {
    expect(debugHealthStatusProbe(15000)).toEqual({
      httpGet: { path: '/debug/health', port: k8s.IntOrString.fromNumber(15000) },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    expect(debugHealthBodyProbe(15000)).toEqual(httpBodyProbe(15000, '/debug/health', '^ok$', DAEMON_READINESS_TIMING));
  });
});

describe('the readiness probes of the synthesized daemons, run against a local server', () => {
  /** The containers of vtctld, vtgate and VTOrc of one release. */
  function daemons(release: VitessRelease) {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    new Vtctld(chart, 'Vtctld', { release, globalTopology, cell: 'test' });
    new Vtgate(chart, 'Vtgate', { release, globalTopology, cell: 'test' });
    if (release.majorVersion >= 16) {
      new Vtorc(chart, 'Vtorc', { release, globalTopology });
    }
    const objects = Testing.synth(chart);
    return {
      vtctld: container(findObject(objects, 'Deployment', 'vtctld'), 'vtctld'),
      vtgate: container(findObject(objects, 'Deployment', 'vtgate-test'), 'vtgate'),
      vtorc: release.majorVersion >= 16 ? container(findObject(objects, 'Deployment', 'vtorc'), 'vtorc') : undefined,
    };
  }

  describe.each([VitessRelease.V9_0, VitessRelease.V22_0])('on Vitess %s', (release) => {
    test('vtctld is ready when /debug/health says ok, not when it says not ok with HTTP 200', async () => {
      // vtctld answers 200 either way: go/vt/vtctld/debug_health.go:31-49 at v0.9.0, :32-50 at v0.22.4 and v0.22.1.
      const probe = daemons(release).vtctld.readinessProbe;
      await withServer(answer(200, 'ok'), async (port, received) => {
        expect((await runBash(probeScriptFor(probe, 15000, port))).code).toBe(0);
        expect(received.map((r) => r.url)).toEqual(['/debug/health']);
      });
      await withServer(answer(200, 'not ok'), async (port) => {
        expect((await runBash(probeScriptFor(probe, 15000, port))).code).toBe(1);
      });
    });

    test('vtgate is ready when /debug/vars counts a serving tablet, not when it counts none', async () => {
      const probe = daemons(release).vtgate.readinessProbe;
      const run = async (body: string, status = 200) =>
        withServer(answer(status, body, 'application/json'), async (port, received) => {
          const { code } = await runBash(probeScriptFor(probe, 15001, port));
          expect(received.map((r) => r.url)).toEqual(['/debug/vars']);
          return code;
        });
      expect(await run(debugVars('{"commerce.0.primary": 1, "commerce.0.replica": 2}'))).toBe(0);
      expect(await run(debugVars('{"commerce.-80.rdonly": 12}'))).toBe(0);
      // No serving tablet: the gauge is empty (before the first tablet serves, or in an outage).
      expect(await run(debugVars('{}'))).toBe(1);
      expect(await run(debugVars(undefined))).toBe(1);
      expect(await run(debugVars('{"commerce.0.primary": 1}'), 500)).toBe(1);
      // /debug/health says ok whatever vtgate can serve, so it is not what the probe reads.
      expect(await run('ok')).toBe(1);
    });
  });

  test('VTOrc keeps an HTTP probe of /debug/health, which answers 500 until VTOrc is healthy', () => {
    // go/vt/vtorc/server/api.go:264-273 at v0.22.4 and v0.22.1.
    expect(daemons(VitessRelease.V22_0).vtorc!.readinessProbe).toEqual({
      httpGet: { path: '/debug/health', port: 15000 },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
  });
});
