import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ValidationContext as Context } from 'cdk8s-cli/lib/plugins/validation';
import { Yaml } from 'cdk8s';
import * as yaml from 'yaml';
import { buildApps, buildVReplicationFlow } from '../main';
import { VitessRelease } from '../lib';
import { ManifestValidation, Problem, checkObject, parseManifest } from '../validation';
import { DATA_DIR, generatedFiles, libKinds } from '../validation/generate';

// The CLI's own context class (exported as 'cdk8s-cli/plugins'), so that the report is the one
// `cdk8s synth` prints.
const { ValidationContext } = require('cdk8s-cli/plugins') as { ValidationContext: typeof Context };

const REPO = path.resolve(__dirname, '..');
const CDK8S_CLI = path.join(REPO, 'node_modules', '.bin', 'cdk8s');
const SYNTH_TIMEOUT_MS = 120_000;

/** Temporary directories of this file, removed after all tests. */
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      return entry.isDirectory() ? yamlFiles(file) : entry.name.endsWith('.yaml') ? [file] : [];
    })
    .sort();
}

function parseFile(file: string): any[] {
  return yaml.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((doc) => doc.toJS());
}

/** The example app (main.ts) synthesized once into a temporary directory. */
const exampleDir = tempDir('validation-example-');
for (const app of buildApps(exampleDir)) {
  app.synth();
}
const exampleFiles = yamlFiles(exampleDir);

/** A copy of an example object, by the flow's folder, the file's name, kind and name. */
function exampleObject(flow: 'vtworker' | 'vreplication', file: string, kind: string, name: string): { object: any; file: string } {
  const fullPath = path.join(exampleDir, flow, file);
  const object = parseFile(fullPath).find((o) => o.kind === kind && o.metadata?.name === name);
  if (!object) {
    throw new Error(`no ${kind}/${name} in ${fullPath}`);
  }
  return { object, file: fullPath };
}

/** The index of the container of a pod template by name. */
function containerIndex(obj: any, name: string): number {
  const index = obj.spec.template.spec.containers.findIndex((c: any) => c.name === name);
  if (index < 0) throw new Error(`no container ${name} in ${obj.kind}/${obj.metadata.name}`);
  return index;
}

/** The 1-based numbers of the script lines that contain `text`. */
function linesContaining(script: string, text: string): number[] {
  return script
    .split('\n')
    .map((line, i) => (line.includes(text) ? i + 1 : 0))
    .filter((n) => n > 0);
}

function rules(problems: Problem[]): string[] {
  return problems.map((p) => p.rule);
}

describe('the vendored data', () => {
  test('is what validation/generate.js writes from ../shared now', () => {
    // GIVEN the files the generator would write today
    const expected = generatedFiles();

    // THEN validation/data/ holds exactly them, byte for byte
    const actualNames = fs.readdirSync(DATA_DIR).map((name) => `data/${name}`).sort();
    expect(actualNames).toEqual(Object.keys(expected).sort());
    for (const [name, content] of Object.entries(expected)) {
      const actual = fs.readFileSync(path.join(REPO, 'validation', name), 'utf8');
      if (actual !== content) {
        throw new Error(`validation/${name} is not what the generator writes now: run node validation/generate.js`);
      }
    }
  });

  test('covers every kind that lib/ creates, and the example creates no other', () => {
    // GIVEN the kinds found in lib/ and the kinds of the synthesized example
    const kinds = libKinds();
    const exampleKinds = new Set(exampleFiles.flatMap(parseFile).map((o) => `${o.apiVersion} ${o.kind}`));

    // THEN the example's kinds are among them
    expect(kinds).toEqual(expect.arrayContaining([...exampleKinds]));
    expect(kinds).toEqual(expect.arrayContaining(['apps/v1 StatefulSet', 'batch/v1 Job', 'v1 Service']));
  });

  test('the plugin runs from a copy of validation/ with js-yaml as its only dependency: no ../shared', () => {
    // GIVEN a copy of validation/ in an empty temporary directory that has only js-yaml in node_modules
    const root = tempDir('validation-copy-');
    const copy = path.join(root, 'validation');
    fs.cpSync(path.join(REPO, 'validation'), copy, { recursive: true });
    fs.mkdirSync(path.join(root, 'node_modules'));
    fs.symlinkSync(path.join(REPO, 'node_modules', 'js-yaml'), path.join(root, 'node_modules', 'js-yaml'), 'dir');
    const { object } = exampleObject('vreplication', '01-tablets-test-keyspace-0.k8s.yaml', 'StatefulSet', 'vttablet-100');
    object.spec.template.spec.containers[containerIndex(object, 'vttablet')].args.push('--foo');

    // WHEN a separate node process checks an object with it
    const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(copy)}).checkObject(${JSON.stringify(object)}, 'x').map((p) => p.rule)))`;
    const result = spawnSync(process.execPath, ['-e', script], { cwd: path.dirname(copy), encoding: 'utf8' });

    // THEN it runs and finds the problem
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual(['unknown flag --foo for vttablet (Vitess v22.0.3)']);
  });
});

describe('parseManifest', () => {
  test("reads every example file as the CLI's parseManifest does", () => {
    // GIVEN the CLI's validation context over the example's manifests
    const context = new ValidationContext(exampleFiles, 'validation', '0.0.0');

    // THEN the plugin's reading of each file is the CLI's
    for (const file of exampleFiles) {
      expect(parseManifest(file)).toEqual(context.parseManifest(file));
    }
  });

  test('reads strings that look like other types in YAML 1.1 or 1.2 as cdk8s wrote them (YAML 1.1, as kubectl reads)', () => {
    // GIVEN an object with such strings, written by cdk8s's serializer
    const file = path.join(tempDir('validation-parse-'), 'strings.k8s.yaml');
    const data = { yes: 'yes', on: 'on', octal: '010', oct12: '0o10', date: '2024-01-01', nul: 'null', tilde: '~', num: '1e3', int: 8 };
    Yaml.save(file, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data }]);

    // WHEN the plugin reads it THEN every value is what was written
    expect(parseManifest(file)).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data }]);
  });

  test('reports a file that is not valid YAML', async () => {
    // GIVEN a manifest that is not YAML
    const file = path.join(tempDir('validation-parse-'), 'broken.k8s.yaml');
    fs.writeFileSync(file, 'kind: [unclosed\n');
    const context = new ValidationContext([file], 'validation', '0.0.0');

    // WHEN the plugin validates it
    await new ManifestValidation().validate(context);

    // THEN the report fails naming the file
    const report = context.report.toJson();
    expect(report.summary.status).toBe('failure');
    expect(report.violations.map((v: any) => [v.ruleName, v.violatingConstructs.map((r: any) => r.manifestPath)])).toEqual([
      ['manifest is not valid YAML', [file]],
    ]);
  });
});

describe('ManifestValidation on the synthesized example', () => {
  test('reports success and no violation for every object of both flows', async () => {
    // GIVEN the example's manifests in the CLI's validation context
    const context = new ValidationContext(exampleFiles, 'validation', '0.0.0');

    // WHEN the plugin validates them
    await new ManifestValidation().validate(context);

    // THEN the report is a success without violations, having checked every object
    const report = context.report.toJson();
    expect(report.violations).toEqual([]);
    expect(report.summary.status).toBe('success');
    const objects = exampleFiles.flatMap(parseFile).length;
    expect(objects).toBeGreaterThan(100);
    expect(report.summary.metadata).toEqual(expect.objectContaining({ 'Objects checked': String(objects), Problems: '0' }));
  });

  test('every example object passes checkObject on its own', () => {
    // GIVEN every object of the example
    const problems = exampleFiles.flatMap((file) => parseFile(file).flatMap((o) => checkObject(o, file)));

    // THEN none has a problem
    expect(problems).toEqual([]);
  });

  test('fails the report, with the object, file, location and rule, when one object is invalid', async () => {
    // GIVEN the example's manifests plus a file with a Deployment whose container has a misspelled field
    const { object } = exampleObject('vreplication', '00-cluster.k8s.yaml', 'Deployment', 'vtctld');
    object.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    const badFile = path.join(tempDir('validation-bad-'), 'bad.k8s.yaml');
    fs.writeFileSync(badFile, yaml.stringify(object));
    const context = new ValidationContext([...exampleFiles, badFile], 'validation', '0.0.0');

    // WHEN the plugin validates them
    await new ManifestValidation().validate(context);

    // THEN the report fails with that one violation
    expect(context.report.success).toBe(false);
    const report = context.report.toJson();
    expect(report.violations.map((v) => v.ruleName)).toEqual([
      "unknown field 'imagePullPolcy' in Container (Kubernetes v1.27.0, v1.34.0)",
    ]);
    expect(report.violations[0].violatingConstructs).toEqual([
      expect.objectContaining({
        resourceName: 'Deployment/vtctld',
        manifestPath: badFile,
        locations: ['/spec/template/spec/containers/0/imagePullPolcy'],
      }),
    ]);
    expect(report.summary.metadata).toEqual(expect.objectContaining({ Problems: '1' }));
  });

  test('the plugin takes no properties', () => {
    // WHEN cdk8s.yaml gives it a property THEN it fails naming the property
    expect(() => new ManifestValidation({ strict: false })).toThrow(
      "ManifestValidation: it takes no properties, got 'strict' in cdk8s.yaml",
    );
  });
});

describe('schema problems', () => {
  test('an unknown field: its JSON path, the allowed fields and the closest one', () => {
    // GIVEN a container with a misspelled field
    const { object, file } = exampleObject('vreplication', '00-cluster.k8s.yaml', 'Deployment', 'vtctld');
    object.spec.template.spec.containers[0].imagePullPolcy = 'Always';

    // WHEN it is checked
    const problems = checkObject(object, file);

    // THEN the problem names the field, where it is, what the container takes and the likely name
    expect(problems).toEqual([
      {
        resource: 'Deployment/vtctld',
        manifestPath: file,
        location: '/spec/template/spec/containers/0/imagePullPolcy',
        rule: "unknown field 'imagePullPolcy' in Container (Kubernetes v1.27.0, v1.34.0)",
        recommendation: expect.stringMatching(
          /^Container takes: args, command, .*imagePullPolicy, .*workingDir; in Kubernetes v1\.34\.0 also: .*restartPolicy.*\. Did you mean 'imagePullPolicy'\?$/,
        ),
        fix: "Remove 'imagePullPolcy' or correct its name.",
      },
    ]);
  });

  test('an unknown field at the top of the object', () => {
    // GIVEN a Service with a field beside spec
    const { object, file } = exampleObject('vtworker', '00-cluster.k8s.yaml', 'Service', 'vtctld');
    object.sepc = {};

    // WHEN it is checked THEN the path is /sepc and the suggestion spec
    const [problem] = checkObject(object, file);
    expect(problem.location).toBe('/sepc');
    expect(problem.rule).toBe("unknown field 'sepc' in Service (Kubernetes v1.27.0, v1.34.0)");
    expect(problem.recommendation).toBe("Service takes: apiVersion, kind, metadata, spec, status. Did you mean 'spec'?");
  });

  test('a wrong type: the path, the expected and the actual type', () => {
    // GIVEN a StatefulSet whose replicas is a string
    const { object, file } = exampleObject('vtworker', '00-cluster.k8s.yaml', 'StatefulSet', 'etcd-global');
    object.spec.replicas = '3';

    // WHEN it is checked
    const problems = checkObject(object, file);

    // THEN
    expect(problems).toEqual([
      {
        resource: 'StatefulSet/etcd-global',
        manifestPath: file,
        location: '/spec/replicas',
        rule: "'replicas' must be integer, is string (Kubernetes v1.27.0, v1.34.0)",
        recommendation: 'The value must be an integer.',
        fix: expect.stringContaining('Correct the value'),
      },
    ]);
  });

  test('an int-or-string given a boolean: one message, not one per branch', () => {
    // GIVEN a PodDisruptionBudget whose maxUnavailable is a boolean
    const { object, file } = exampleObject('vtworker', '00-cluster.k8s.yaml', 'PodDisruptionBudget', 'vtctld');
    object.spec.maxUnavailable = true;

    // WHEN it is checked THEN
    expect(rules(checkObject(object, file))).toEqual(["'maxUnavailable' must be string or integer, is boolean (Kubernetes v1.27.0, v1.34.0)"]);
  });

  test('a missing required field names the field and the object type', () => {
    // GIVEN a container without a name
    const { object, file } = exampleObject('vtworker', '00-cluster.k8s.yaml', 'Deployment', 'vtctld');
    delete object.spec.template.spec.containers[0].name;

    // WHEN it is checked THEN
    const problems = checkObject(object, file);
    expect(rules(problems)).toEqual(["missing required field 'name' in Container (Kubernetes v1.27.0, v1.34.0)"]);
    expect(problems[0].location).toBe('/spec/template/spec/containers/0');
  });

  test('a kind the data does not cover is a problem, not skipped', () => {
    // GIVEN a Secret (no construct of the library creates one)
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { a: 'b' } };

    // WHEN it is checked THEN the problem says so and lists what is covered
    const problems = checkObject(secret, 'x.k8s.yaml');
    expect(problems).toEqual([
      expect.objectContaining({
        resource: 'Secret/creds',
        location: '/kind',
        rule: 'no schema for v1 Secret (Kubernetes v1.27.0, v1.34.0)',
        recommendation: expect.stringContaining('apps/v1 StatefulSet'),
        fix: 'Add the kind to EXTRA_KINDS in validation/generate.js and run node validation/generate.js.',
      }),
    ]);
  });

  test('a document that is not a Kubernetes object', () => {
    expect(rules(checkObject('text', 'x.k8s.yaml'))).toEqual(['not a Kubernetes object']);
    expect(rules(checkObject({ kind: 'Service' }, 'x.k8s.yaml'))).toEqual(['not a Kubernetes object']);
  });
});

describe('Vitess flag and command problems', () => {
  test('an unknown vttablet flag (v22.0.3): the argument path and the closest flags', () => {
    // GIVEN a tablet whose vttablet has a misspelled flag
    const { object, file } = exampleObject('vreplication', '01-tablets-test-keyspace-0.k8s.yaml', 'StatefulSet', 'vttablet-100');
    const c = containerIndex(object, 'vttablet');
    const args: string[] = object.spec.template.spec.containers[c].args;
    args.push('--tablet_hostnme=x');

    // WHEN it is checked
    const problems = checkObject(object, file);

    // THEN
    expect(problems).toEqual([
      {
        resource: 'StatefulSet/vttablet-100',
        manifestPath: file,
        location: `/spec/template/spec/containers/${c}/args/${args.length - 1}`,
        rule: 'unknown flag --tablet_hostnme for vttablet (Vitess v22.0.3)',
        recommendation: expect.stringMatching(/^vttablet of Vitess v22\.0\.3 has no flag --tablet_hostnme; the closest flags: --tablet_hostname\b/),
        fix: expect.stringContaining('Correct the flag name'),
      },
    ]);
  });

  test('an unknown vttablet flag (v9.0.0), written the Go flag way', () => {
    // GIVEN a v9 tablet with a flag v9 does not have
    const { object, file } = exampleObject('vtworker', '01-tablets-test-keyspace-0.k8s.yaml', 'StatefulSet', 'vttablet-100');
    const c = containerIndex(object, 'vttablet');
    object.spec.template.spec.containers[c].args.push('-foo=1');

    // WHEN it is checked THEN
    expect(rules(checkObject(object, file))).toEqual(['unknown flag -foo for vttablet (Vitess v9.0.0)']);
  });

  test('the VReplication flow on Vitess v24.0.4 passes; a v22 underscore spelling there is reported with the dashed name', () => {
    // GIVEN the VReplication flow synthesized on V24_0
    const dir = tempDir('validation-v24-');
    for (const app of buildVReplicationFlow(dir, { modernRelease: VitessRelease.V24_0 })) app.synth();
    const files = yamlFiles(dir);
    const objects = files.flatMap((file) => parseFile(file).map((object) => ({ object, file })));

    // THEN every object passes, and the plugin knows the release
    expect(objects.length).toBeGreaterThan(50);
    expect(objects.flatMap(({ object, file }) => checkObject(object, file))).toEqual([]);

    // WHEN a v24 tablet gets a flag spelled as v22 spells it
    const { object, file } = objects.find(({ object: o }) => o.kind === 'StatefulSet' && o.metadata.name === 'vttablet-100')!;
    const c = containerIndex(object, 'vttablet');
    expect(object.spec.template.spec.containers[c].image).toBe('vitess/lite:v24.0.4');
    object.spec.template.spec.containers[c].args.push('--init_shard=0');

    // THEN it is reported, with the dashed flag closest
    const problems = checkObject(object, file);
    expect(rules(problems)).toEqual(['unknown flag --init_shard for vttablet (Vitess v24.0.4)']);
    expect(problems[0].recommendation).toMatch(/^vttablet of Vitess v24\.0\.4 has no flag --init_shard; the closest flags: --init-shard\b/);
  });

  test('v22.0.3 flags must be written with two dashes', () => {
    // GIVEN a v22 vttablet flag written -port
    const { object, file } = exampleObject('vreplication', '01-tablets-test-keyspace-0.k8s.yaml', 'StatefulSet', 'vttablet-100');
    const c = containerIndex(object, 'vttablet');
    object.spec.template.spec.containers[c].args.push('-port=15000');

    // WHEN it is checked THEN
    const problems = checkObject(object, file);
    expect(rules(problems)).toEqual(['flag -port for vttablet must be written --port (Vitess v22.0.3)']);
    expect(problems[0].fix).toBe('Write the flag as --port=15000.');
  });

  test('an unknown vtctldclient command in a Job script: the script line', () => {
    // GIVEN the AddCellInfo Job (v22) whose check runs a misspelled command
    const { object, file } = exampleObject('vreplication', '02-init.k8s.yaml', 'Job', 'vtctl-addcellinfo-test');
    const command: string[] = object.spec.template.spec.containers[0].command;
    command[2] = command[2].replace(/ GetCellInfoNames\b/g, ' GetCellInfoNamez');
    const lines = linesContaining(command[2], 'timeout 30 /vt/bin/vtctldclient --server=vtctld:15999 GetCellInfoNamez');
    expect(lines.length).toBeGreaterThan(0);

    // WHEN it is checked
    const problems = checkObject(object, file);

    // THEN each run of the command is reported at its line of the script
    expect(problems.map((p) => p.location)).toEqual(lines.map((line) => `/spec/template/spec/containers/0/command/2, script line ${line}`));
    expect(new Set(rules(problems))).toEqual(new Set(["unknown vtctldclient command 'GetCellInfoNamez' (Vitess v22.0.3)"]));
    expect(problems[0].recommendation).toMatch(/^Vitess v22\.0\.3 has no vtctldclient command 'GetCellInfoNamez'; the closest commands: GetCellInfoNames\b/);
  });

  test('an unknown vtctldclient command flag and subcommand', () => {
    // GIVEN the Reshard create Job (v22) with a misspelled flag and the SwitchTraffic Job with a misspelled subcommand
    const create = exampleObject('vreplication', '11-reshard-create.k8s.yaml', 'Job', 'vtctl-test-keyspace-reshard-create');
    const createCommand: string[] = create.object.spec.template.spec.containers[0].command;
    createCommand[2] = createCommand[2].replace(/--source-shards=/g, '--source-shard=');
    const switchReads = exampleObject('vreplication', '13-reshard-switch-reads.k8s.yaml', 'Job', 'vtctl-test-keyspace-reshard-switchtraffic-rdonly-replica');
    const switchCommand: string[] = switchReads.object.spec.template.spec.containers[0].command;
    switchCommand[2] = switchCommand[2].replace(/ switchtraffic /g, ' switch-traffic ');

    // WHEN they are checked THEN
    expect(new Set(rules(checkObject(create.object, create.file)))).toEqual(
      new Set(['unknown flag --source-shard for vtctldclient Reshard create (Vitess v22.0.3)']),
    );
    expect(new Set(rules(checkObject(switchReads.object, switchReads.file)))).toEqual(
      new Set(["unknown vtctldclient Reshard subcommand 'switch-traffic' (Vitess v22.0.3)"]),
    );
  });

  test('an unknown vtctl command (v9.0.0) in a Job script', () => {
    // GIVEN the v9 AddCellInfo Job whose check runs a misspelled command
    const { object, file } = exampleObject('vtworker', '02-init.k8s.yaml', 'Job', 'vtctl-addcellinfo-test');
    const command: string[] = object.spec.template.spec.containers[0].command;
    command[2] = command[2].replace(/ GetCellInfoNames\b/g, ' GetCellInfoNamez');

    // WHEN it is checked THEN
    const problems = checkObject(object, file);
    expect(problems.length).toBeGreaterThan(0);
    expect(new Set(rules(problems))).toEqual(new Set(["unknown vtctl command 'GetCellInfoNamez' for vtctlclient (Vitess v9.0.0)"]));
  });

  test('an unknown Vitess image tag is a problem, and its commands are not checked', () => {
    // GIVEN a v22 tablet moved to an image of a release without data, with an unknown flag
    const { object, file } = exampleObject('vreplication', '01-tablets-test-keyspace-0.k8s.yaml', 'StatefulSet', 'vttablet-100');
    const c = containerIndex(object, 'vttablet');
    object.spec.template.spec.containers[c].image = 'vitess/lite:v15.0.0';
    object.spec.template.spec.containers[c].args.push('--foo');

    // WHEN it is checked
    const problems = checkObject(object, file);

    // THEN only the image is reported
    expect(problems).toEqual([
      {
        resource: 'StatefulSet/vttablet-100',
        manifestPath: file,
        location: `/spec/template/spec/containers/${c}/image`,
        rule: 'no reference data for Vitess image vitess/lite:v15.0.0',
        recommendation: 'There is no data for Vitess v15.0.0. The plugin has the flags and commands of Vitess v9.0.0, v22.0.3, v24.0.4.',
        fix: expect.stringContaining('VITESS_RELEASES in validation/generate.js'),
      },
    ]);
  });

  test('a Vitess image without a release tag is a problem; a variant suffix is the release', () => {
    // GIVEN the same tablet with an untagged image, and with a -mysql84 variant of v22.0.3
    const { object, file } = exampleObject('vreplication', '01-tablets-test-keyspace-0.k8s.yaml', 'StatefulSet', 'vttablet-100');
    const c = containerIndex(object, 'vttablet');
    object.spec.template.spec.containers[c].image = 'vitess/lite:latest';
    const latest = checkObject(object, file);
    object.spec.template.spec.containers[c].image = 'vitess/lite:v22.0.3-mysql84';
    const variant = checkObject(object, file);

    // THEN
    expect(rules(latest)).toEqual(['no reference data for Vitess image vitess/lite:latest']);
    expect(latest[0].recommendation).toMatch(/^The tag 'latest' is not a release/);
    expect(variant).toEqual([]);
  });

  test('a Job script that does not split into words is a problem, not a crash', () => {
    // GIVEN a v22 Job whose script has an unterminated quote
    const { object, file } = exampleObject('vreplication', '02-init.k8s.yaml', 'Job', 'vtctl-addcellinfo-test');
    object.spec.template.spec.containers[0].command[2] += "echo 'unterminated\n";

    // WHEN it is checked THEN
    const problems = checkObject(object, file);
    expect(rules(problems)).toEqual(['a bash script that cannot be read for its Vitess commands']);
    expect(problems[0].location).toBe('/spec/template/spec/containers/0/command/2');
    expect(problems[0].recommendation).toMatch(/unterminated single quote/);
  });

  test('containers of other images are only schema-checked', () => {
    // GIVEN an etcd StatefulSet whose etcd command has an argument vttablet would reject
    const { object, file } = exampleObject('vtworker', '00-cluster.k8s.yaml', 'StatefulSet', 'etcd-global');
    const container = object.spec.template.spec.containers[0];
    expect(container.image).toMatch(/etcd/);
    container.command = ['/vt/bin/vttablet', '--foo'];

    // WHEN it is checked THEN there is no problem
    expect(checkObject(object, file)).toEqual([]);
  });
});

describe('cdk8s synth with the plugin', () => {
  test(
    'a project whose app writes one invalid object: exit code 2 and the report',
    () => {
      // GIVEN a project (outside the repository) whose cdk8s.yaml names this plugin by absolute path,
      // and whose app writes a Deployment with a misspelled field and an unknown vttablet flag
      const project = tempDir('validation-project-');
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'vttablet-bad' },
        spec: {
          selector: { matchLabels: { app: 'bad' } },
          template: {
            metadata: { labels: { app: 'bad' } },
            spec: {
              containers: [
                { name: 'vttablet', image: 'vitess/lite:v22.0.3', command: ['/vt/bin/vttablet'], args: ['--port=15000', '--foo=1'], imagePullPolcy: 'Always' },
              ],
            },
          },
        },
      };
      fs.writeFileSync(
        path.join(project, 'app.js'),
        [
          "const fs = require('fs');",
          "const path = require('path');",
          'const out = process.env.CDK8S_OUTDIR;',
          'fs.mkdirSync(out, { recursive: true });',
          `fs.writeFileSync(path.join(out, 'app.k8s.yaml'), ${JSON.stringify(yaml.stringify(deployment))});`,
        ].join('\n'),
      );
      fs.writeFileSync(
        path.join(project, 'cdk8s.yaml'),
        yaml.stringify({
          app: 'node app.js',
          output: 'dist',
          validations: [{ package: path.join(REPO, 'validation'), version: '0.0.0', class: 'ManifestValidation' }],
        }),
      );

      // WHEN the real CLI synthesizes it
      const result = spawnSync(CDK8S_CLI, ['synth', '--no-check-upgrade'], { cwd: project, encoding: 'utf8' });

      // THEN it exits with the CLI's validation failure code and prints the report
      const output = result.stdout + result.stderr;
      expect({ status: result.status, output }).toEqual({ status: 2, output: expect.stringContaining('Validation failed') });
      expect(result.stdout).toContain("unknown field 'imagePullPolcy' in Container (Kubernetes v1.27.0, v1.34.0)");
      expect(result.stdout).toContain('unknown flag --foo for vttablet (Vitess v22.0.3)');
      expect(result.stdout).toContain('Resource Name: Deployment/vttablet-bad');
      expect(result.stdout).toContain('Manifest Path: dist/app.k8s.yaml');
      expect(result.stdout).toContain('> /spec/template/spec/containers/0/imagePullPolcy');
      expect(result.stdout).toContain('> /spec/template/spec/containers/0/args/1');
      expect(result.stdout).toContain("Did you mean 'imagePullPolicy'?");
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    "the repository's npm run synth (cdk8s.yaml with the plugin) succeeds on the example",
    () => {
      // GIVEN an output directory outside dist/
      const out = path.join(tempDir('validation-synth-'), 'out');

      // WHEN the repository's synth script writes into it
      const result = spawnSync('npm', ['run', 'synth', '--', '--output', out], { cwd: REPO, encoding: 'utf8' });

      // THEN it exits 0 after validating every file, and writes no construct metadata beside the manifests
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      expect(result.stdout).toContain('Performing validations');
      expect(result.stdout).toContain('Validations ended succesfully');
      expect(result.stdout).toMatch(/Objects checked\s*│\s*\d{3}/);
      const written = yamlFiles(out).map((file) => path.relative(out, file));
      expect(written).toEqual(exampleFiles.map((file) => path.relative(exampleDir, file)));
      expect(fs.readdirSync(path.join(out, 'vtworker')).filter((name) => name.endsWith('.json'))).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );
});
