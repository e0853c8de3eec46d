import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { commandEnv } from './util/npm-env';

/**
 * The package as its users get it: `npm run build` and `npm pack` here, the tarball installed into
 * a fresh TypeScript cdk8s app beside cdk8s, cdk8s-plus-27 and constructs (its peer dependencies),
 * and that app type-checked and synthesized through the cdk8s CLI.
 */

const REPO = path.resolve(__dirname, '..');
const REPO_PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

/** The consumer app's dependencies, at the versions this repository develops and tests with. */
function pinned(name: string): string {
  const version = REPO_PACKAGE.devDependencies?.[name];
  if (!version) {
    throw new Error(`package.json has no devDependency '${name}' to pin the consumer app to`);
  }
  return version;
}

/** Runs a command to completion; on failure the error carries the command's output. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, env: commandEnv(), encoding: 'utf8', stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 });
  } catch (err: any) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/**
 * The consumer app: the TypeScript sample of the README's "Using the constructs in your own app",
 * a v22 VitessCluster built only from what the package exports.
 */
function readmeSample(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Using the constructs in your own app\n'));
  const sample = section && /```ts\n([\s\S]*?)```/.exec(section);
  if (!sample) {
    throw new Error("README.md has no ```ts sample in its section 'Using the constructs in your own app'");
  }
  return sample[1];
}
/**
 * The app: the README's sample, with one more chart of kinds the library does not create (an HPA
 * for vtgate and a CronJob that runs vtctldclient), which the validation plugin must check against
 * their schemas without false errors.
 */
const README_MAIN = readmeSample();
const EXTRAS = `
// extras.k8s.yaml: kinds the library does not create
const extras = new ExtrasChart(app, 'extras', { disableResourceNameHashes: true });
new k8s.KubeHorizontalPodAutoscalerV2(extras, 'VtgateAutoscaler', {
  metadata: { name: 'vtgate-zone1' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'vtgate-zone1' },
    minReplicas: 2,
    maxReplicas: 6,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
  },
});
new k8s.KubeCronJob(extras, 'Backup', {
  metadata: { name: 'backup-commerce-0' },
  spec: {
    schedule: '0 3 * * *',
    concurrencyPolicy: 'Forbid',
    jobTemplate: {
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'backup', image: 'vitess/lite:v22.0.3', command: ['/vt/bin/vtctldclient', '--server=vtctld:15999', 'Backup', 'zone1-0000000104'] }],
          },
        },
      },
    },
  },
});
`;
if (!README_MAIN.includes('\napp.synth();')) {
  throw new Error("README.md's ```ts sample does not end with app.synth()");
}
const CONSUMER_MAIN = `import { Chart as ExtrasChart } from 'cdk8s';\nimport { k8s } from 'cdk8s-plus-27';\n${README_MAIN.replace('\napp.synth();', `${EXTRAS}\napp.synth();`)}`;

/** The ```yaml block of the README's section 'Using the constructs in your own app': the plugin's lines of a cdk8s.yaml. */
function readmeValidations(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Using the constructs in your own app\n'));
  const block = section && /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) {
    throw new Error("README.md has no ```yaml block in its section 'Using the constructs in your own app'");
  }
  return block[1];
}
const CONSUMER_VALIDATIONS = readmeValidations();

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2020',
    module: 'commonjs',
    lib: ['es2020'],
    strict: true,
    noUnusedLocals: true,
    esModuleInterop: true,
    // Checks the package's declaration files too, not only the app.
    skipLibCheck: false,
    types: [],
    noEmit: true,
  },
  include: ['main.ts'],
};

/** `<Kind>/<name>` of every object in the YAML files of `dir`, by file name. */
function objectsByFile(dir: string): Map<string, string[]> {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.k8s.yaml')).sort();
  return new Map(
    files.map((file) => [
      file,
      parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))
        .map((doc) => doc.toJS())
        .filter((obj) => obj)
        .map((obj) => `${obj.kind}/${obj.metadata.name}`),
    ]),
  );
}

describe('the packed package in a fresh cdk8s app', () => {
  let workDir: string;
  let appDir: string;
  let packedFiles: string[];

  beforeAll(() => {
    // GIVEN the library built and packed as `npm publish` would pack it
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-vitess-package-'));
    run('npm', ['run', 'build'], REPO);
    const packed = JSON.parse(
      run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', workDir], REPO),
    );
    packedFiles = packed[0].files.map((f: { path: string }) => f.path).sort();
    const tarball = path.join(workDir, packed[0].filename);

    // AND a fresh TypeScript cdk8s app that installs the tarball beside its peer dependencies
    appDir = path.join(workDir, 'app');
    fs.mkdirSync(appDir);
    const appPackage = {
      name: 'consumer-app',
      version: '0.0.0',
      private: true,
      dependencies: {
        'cdk8s-vitess': `file:${tarball}`,
        'cdk8s': pinned('cdk8s'),
        'cdk8s-plus-27': pinned('cdk8s-plus-27'),
        'constructs': pinned('constructs'),
      },
      devDependencies: {
        'cdk8s-cli': pinned('cdk8s-cli'),
        'ts-node': pinned('ts-node'),
        'typescript': pinned('typescript'),
      },
    };
    fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify(appPackage, null, 2));
    fs.writeFileSync(path.join(appDir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
    // its cdk8s.yaml with the README's lines for the validation plugin, as written there
    fs.writeFileSync(path.join(appDir, 'cdk8s.yaml'), `language: typescript\napp: npx ts-node --transpile-only main.ts\noutput: dist\n${CONSUMER_VALIDATIONS}`);
    fs.writeFileSync(path.join(appDir, 'main.ts'), CONSUMER_MAIN);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], appDir);
  }, 10 * 60_000);

  afterAll(() => {
    if (workDir) {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  test('the tarball holds the compiled library, its declarations and the README, no sources or tests', () => {
    // THEN
    expect(packedFiles).toContain('package.json');
    expect(packedFiles).toContain('README.md');
    expect(packedFiles).toContain('build/lib/index.js');
    expect(packedFiles).toContain('build/lib/index.d.ts');
    expect(packedFiles).toContain('build/imports/k8s.js');
    expect(packedFiles).toContain('build/imports/k8s.d.ts');
    const sources = (dir: string): string[] =>
      fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? sources(`${dir}/${entry.name}`) : entry.name.endsWith('.ts') ? [`${dir}/${entry.name}`] : [],
      );
    for (const source of [...sources('lib'), ...sources('validation')]) {
      const compiled = source.replace(/\.ts$/, '');
      expect(packedFiles).toContain(`build/${compiled}.js`);
      expect(packedFiles).toContain(`build/${compiled}.d.ts`);
    }
    // the validation plugin's generated data, built by npm run build
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'build/validation/data/kubernetes-v1.27.0.js',
        'build/validation/data/kubernetes-v1.27.0-other.js',
        'build/validation/data/kubernetes-v1.34.0.js',
        'build/validation/data/kubernetes-v1.34.0-other.js',
        'build/validation/data/vitess.json',
        // the daemons' flags that extraFlags are checked against
        'build/lib/data/vitess-daemon-flags.json',
      ]),
    );
    const unexpected = packedFiles.filter(
      (f) =>
        !['package.json', 'README.md', 'LICENSE'].includes(f) &&
        !/^build\/(lib|imports|validation)\/([a-z-]+\/)*[^/]+\.(js|d\.ts)$/.test(f) &&
        f !== 'build/validation/data/vitess.json' &&
        f !== 'build/lib/data/vitess-daemon-flags.json',
    );
    expect(unexpected).toEqual([]);
  });

  test('the app resolves the package to its compiled entry point and shares the peer dependencies', () => {
    // WHEN
    const resolved = run(
      'node',
      ['-p', "[require.resolve('cdk8s-vitess'), require.resolve('cdk8s-vitess/package.json')].join('\\n')"],
      appDir,
    ).trim().split('\n');

    // THEN
    const installed = fs.realpathSync(path.join(appDir, 'node_modules', 'cdk8s-vitess'));
    expect(resolved).toEqual([path.join(installed, 'build', 'lib', 'index.js'), path.join(installed, 'package.json')]);
    // peer dependencies: the app's own cdk8s, cdk8s-plus-27 and constructs, no copies of them inside
    expect(fs.existsSync(path.join(installed, 'node_modules'))).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['cdk8s', 'cdk8s-plus-27', 'constructs']);
    // the validation plugin's one dependency
    expect(manifest.dependencies).toEqual({ 'js-yaml': REPO_PACKAGE.dependencies['js-yaml'] });
  });

  test("the installed package checks extraFlags against the flag lists it ships", () => {
    // WHEN a vtgate with a known and an unknown flag is built from the installed package
    const script = [
      "const { App, Chart } = require('cdk8s');",
      "const v = require('cdk8s-vitess');",
      "const chart = new Chart(new App({ outdir: require('os').tmpdir() }), 'c');",
      "const g = v.TopologyServer.fromAddress('global', 'etcd:2379');",
      "const ok = new v.Vtgate(chart, 'A', { release: v.VitessRelease.V24_0, globalTopology: g, cell: 'a', extraFlags: { vtgate: { tablet_refresh_interval: '10s' } } });",
      "console.log(chart.toJson().find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].args.filter((a) => a.startsWith('--tablet-refresh')).join(' '));",
      "try { new v.Vtgate(chart, 'B', { release: v.VitessRelease.V24_0, globalTopology: g, cell: 'b', extraFlags: { vtgate: { tablet_refresh_intervall: '10s' } } }); } catch (e) { console.log(e.message); }",
    ].join('\n');
    const output = run('node', ['-e', script], appDir).trim().split('\n');

    // THEN
    expect(output).toEqual([
      '--tablet-refresh-interval=10s',
      "Vtgate: 'extraFlags.vtgate.tablet_refresh_intervall' is not a flag of vtgate in Vitess v24.0.4; the closest are --tablet-refresh-interval, --table-refresh-interval",
    ]);
  });

  test("the app is the README's sample and builds the cluster from the package's model", () => {
    // THEN
    const imported = /import \{([^}]*)\} from 'cdk8s-vitess';/.exec(README_MAIN);
    expect(imported).not.toBeNull();
    const names = imported![1].split(',').map((n) => n.trim());
    expect(names).toEqual(expect.arrayContaining(['VitessCluster', 'VitessRelease', 'GlobalTopology', 'Partitioning', 'TabletPoolType']));
    expect(CONSUMER_MAIN).toContain('new VitessCluster(');
    expect(CONSUMER_MAIN).toContain('release: VitessRelease.V22_0,');
    expect(CONSUMER_MAIN).toContain('cluster.reshard(');
  });

  test('the app type-checks under strict settings, declaration files included', () => {
    // WHEN
    const output = run('npx', ['tsc', '-p', 'tsconfig.json'], appDir);

    // THEN
    expect(output.trim()).toBe('');
  });

  test('the app fails to type-check when it misuses a construct', () => {
    // GIVEN a prop of the wrong type
    const broken = path.join(appDir, 'broken.ts');
    const brokenConfig = path.join(appDir, 'tsconfig.broken.json');
    expect(CONSUMER_MAIN).toContain('uidBase: 100,');
    fs.writeFileSync(broken, CONSUMER_MAIN.replace('uidBase: 100,', "uidBase: '100',"));
    fs.writeFileSync(brokenConfig, JSON.stringify({ ...CONSUMER_TSCONFIG, include: ['broken.ts'] }));

    // WHEN / THEN
    try {
      expect(() => run('npx', ['tsc', '-p', 'tsconfig.broken.json'], appDir)).toThrow(
        /broken\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/,
      );
    } finally {
      fs.rmSync(broken);
      fs.rmSync(brokenConfig);
    }
  });

  test('the cdk8s CLI synthesizes the cluster, its init Jobs, the resharding phases and the extras, validated by the shipped plugin', () => {
    // WHEN
    const output = run('npx', ['cdk8s', 'synth', '--no-check-upgrade'], appDir);

    // THEN the plugin of the installed package checked every object and found nothing
    expect(output).toMatch(/Synthesizing application/);
    expect(output).toContain('Performing validations');
    expect(output).toContain('Validations ended succesfully');
    expect(output).toMatch(/Objects checked\s*│\s*\d+/);
    expect(output).toMatch(/Problems\s*│\s*0\b/);
    // AND dist/ holds the manifests only: no construct-metadata.json
    expect(fs.readdirSync(path.join(appDir, 'dist')).sort()).toEqual([
      '00-cluster.k8s.yaml',
      '01-tablets-commerce-0.k8s.yaml',
      '02-init.k8s.yaml',
      '10-reshard-new-shards.k8s.yaml',
      '11-reshard-create.k8s.yaml',
      '12-reshard-vdiff.k8s.yaml',
      '13-reshard-switch-reads.k8s.yaml',
      '14-reshard-switch-primary.k8s.yaml',
      '15-reshard-complete.k8s.yaml',
      '16-reshard-delete-shard.k8s.yaml',
      'extras.k8s.yaml',
    ]);
    const objects = objectsByFile(path.join(appDir, 'dist'));
    expect(objects.get('extras.k8s.yaml')).toEqual(['HorizontalPodAutoscaler/vtgate-zone1', 'CronJob/backup-commerce-0']);
    expect(objects.get('00-cluster.k8s.yaml')).toEqual(
      expect.arrayContaining(['StatefulSet/etcd-global', 'Service/etcd-global-client', 'StatefulSet/etcd-zone1', 'Deployment/vtctld', 'Deployment/vtgate-zone1', 'Deployment/vtorc']),
    );
    const tablets = (file: string) => objects.get(file)!.filter((o) => o.startsWith('StatefulSet/vttablet-'));
    expect(tablets('01-tablets-commerce-0.k8s.yaml')).toEqual(['vttablet-100', 'vttablet-101', 'vttablet-102', 'vttablet-103', 'vttablet-104'].map((n) => `StatefulSet/${n}`));
    expect(tablets('10-reshard-new-shards.k8s.yaml')).toHaveLength(10);
    const jobs = (file: string) => objects.get(file)!.filter((o) => o.startsWith('Job/')).map((o) => o.replace(/-[0-9a-f]{5}$/, ''));
    expect(jobs('02-init.k8s.yaml')).toEqual([
      'Job/vtctl-addcellinfo-zone1',
      'Job/vtctl-createkeyspace-commerce',
      'Job/vtctl-setkeyspacedurabilitypolicy-commerce',
      'Job/vtctl-plannedreparentshard-commerce-0',
      'Job/vtctl-applyschema-commerce-product',
      'Job/vtctl-rebuildvschemagraph',
    ]);
    expect(jobs('11-reshard-create.k8s.yaml')).toEqual(['Job/vtctl-commerce-reshard-create']);
  });
});
