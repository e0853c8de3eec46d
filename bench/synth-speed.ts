/**
 * CLI synthesis speed: the wall time of `cdk8s synth --no-check-upgrade` (what `npm run synth` runs
 * after `npm run build`, which this benchmark runs once first) of the example (both flows, every phase
 * chart, the rollbacks, and the validation plugin of cdk8s.yaml) against that of a minimal cdk8s
 * app with one Deployment, synthesized the same way: the same `synth` script (`cdk8s synth
 * --no-check-upgrade`), the same CLI and node_modules (linked from this repository), no
 * type-checking at synth time (that is `npm test`'s and `npm run build`'s job).
 *
 * The minimal app is run with each of these app commands:
 * - the example's own (the `app:` of cdk8s.yaml, `node --require tsx/cjs main.ts`);
 * - `npx ts-node --transpile-only main.ts`, `cdk8s init`'s command without type-checking;
 * - `node -r ts-node/register/transpile-only main.ts`, the same without npx.
 * All run to temporary directories, so this repository's `dist/` is left alone.
 *
 * The subjects are run alternately, after one unmeasured run each, so that a busy machine slows
 * them alike; the medians are compared with the goal (the example within 1.2x the minimal app),
 * twice: against the fastest minimal app with ts-node transpile-only (the configuration the goal
 * names) and against the fastest of all. A last subject, the example with `--no-validate`, shows
 * the plugin's share (for information only).
 *
 * With `--breakdown` it also times, for the example and the minimal app with the example's app
 * command, the app command alone (no CLI) and, once, the CLI around an app command that writes
 * nothing.
 *
 * Usage: `npm run bench:synth [-- --runs 7 --breakdown]`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { commandEnv } from '../test/util/npm-env';
import { median, runsArg, yamlFiles } from './util';

const REPO = path.resolve(__dirname, '..');
/** The goal: the example's `cdk8s synth` within this many times the minimal app's. */
const GOAL_RATIO = 1.2;
/** The synth command of every subject: this repository's cdk8s CLI. */
const SYNTH = `${path.join(REPO, 'node_modules', '.bin', 'cdk8s')} synth --no-check-upgrade`;

/** The example's app command, the `app:` of this repository's cdk8s.yaml. */
function exampleAppCommand(): string {
  const match = /^app: (.+)$/m.exec(fs.readFileSync(path.join(REPO, 'cdk8s.yaml'), 'utf8'));
  if (!match) {
    throw new Error("synth-speed: cdk8s.yaml has no 'app:' line");
  }
  return match[1].trim();
}

/** The minimal app's commands: the example's and ts-node's without type-checking (with and without npx). */
function minimalAppCommands(): string[] {
  return [...new Set([exampleAppCommand(), 'npx ts-node --transpile-only main.ts', 'node -r ts-node/register/transpile-only main.ts'])];
}

const MINIMAL_MAIN = `import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';

const app = new App();
const chart = new Chart(app, 'minimal');
new k8s.KubeDeployment(chart, 'Deployment', {
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    },
  },
});
app.synth();
`;

/** A minimal app in a temporary directory that uses this repository's node_modules and runs `appCommand`. */
function createMinimalApp(dir: string, appCommand: string): void {
    const repoTsconfig = JSON.parse(fs.readFileSync(path.join(REPO, 'tsconfig.json'), 'utf8'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'minimal-app', version: '0.0.0', private: true, scripts: { synth: SYNTH } }, null, 2),
  );
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...repoTsconfig.compilerOptions, types: ['node'] }, include: ['main.ts'] }, null, 2),
  );
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: ${appCommand}\noutput: dist\n`);
  fs.writeFileSync(path.join(dir, 'main.ts'), MINIMAL_MAIN);
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}

/** Runs a shell command; returns its wall time in seconds, throws with its output when it fails. */
function timed(command: string, cwd: string, env: NodeJS.ProcessEnv = commandEnv()): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, { cwd, env, shell: true, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) {
    throw new Error(`synth-speed: '${command}' failed in ${cwd} (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return seconds;
}

/** The goal: the validation plugin's own time on the example, module loading included. */
const PLUGIN_GOAL_MS = 50;

/**
 * Prints the validation plugin's own time on the manifests: in a fresh node process each run, from
 * before the built plugin (build/validation) is loaded to the end of its `validate`, with the CLI's
 * validation context.
 */
function pluginTime(manifests: string[], runs: number): void {
  const script = [
    "const { ValidationContext } = require('cdk8s-cli/plugins');",
    `const manifests = ${JSON.stringify(manifests)};`,
    'const context = new ValidationContext(manifests, "cdk8s-vitess", "0.1.0");',
    'const start = process.hrtime.bigint();',
    `const { ManifestValidation } = require(${JSON.stringify(path.join(REPO, 'build', 'validation'))});`,
    'new ManifestValidation().validate(context).then(() => {',
    '  const ms = Number(process.hrtime.bigint() - start) / 1e6;',
    '  if (!context.report.success) { console.error("the plugin found problems"); process.exit(1); }',
    '  process.stdout.write(String(ms));',
    '});',
  ].join('\n');
  const times = Array.from({ length: runs + 1 }, () => {
    const result = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`synth-speed: the plugin's timing run failed:\n${result.stdout}\n${result.stderr}`);
    }
    return Number(result.stdout);
  }).slice(1);
  const ms = median(times);
  console.log(
    `${ms <= PLUGIN_GOAL_MS ? 'PASS' : 'FAIL'} the validation plugin takes ${ms.toFixed(1)} ms on the example's ${manifests.length} files, ` +
      `loading included (goal <= ${PLUGIN_GOAL_MS} ms; runs: ${times.map((t) => t.toFixed(1)).join(' ')})`,
  );
}

interface Subject {
  readonly name: string;
  readonly dir: string;
  readonly outdir: string;
  /** Extra flags for `cdk8s synth`. */
  readonly flags: string;
  readonly times: number[];
}

/**
 * Measures and prints the example's `cdk8s synth` against the minimal app's, and the goal check.
 * @param args `--runs N` (default 5) and `--breakdown`.
 */
export function synthSpeed(args: string[]): void {
  const runs = runsArg(args);
  // The example's cdk8s.yaml names the built plugin (build/validation).
  timed('npm run --silent build', REPO);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-vitess-synth-speed-'));
  try {
    const example: Subject = { name: 'example (cdk8s synth)', dir: REPO, outdir: path.join(workDir, 'example-out'), flags: '', times: [] };
    const minimals: Subject[] = minimalAppCommands().map((command, i) => {
      const dir = path.join(workDir, `minimal-${i}`);
      fs.mkdirSync(dir);
      createMinimalApp(dir, command);
      return { name: `minimal app, app: ${command}`, dir, outdir: path.join(workDir, `minimal-${i}-out`), flags: '', times: [] };
    });
    const exampleNoValidate: Subject = {
      name: 'example, --no-validate',
      dir: REPO,
      outdir: path.join(workDir, 'example-no-validate-out'),
      flags: ' --no-validate',
      times: [],
    };
    const subjects = [example, ...minimals, exampleNoValidate];
    const synth = (subject: Subject): number =>
      timed(`${SYNTH} --output ${subject.outdir}${subject.flags}`, subject.dir);

    console.log(`cdk8s synth wall time (Node ${process.version}, ${os.cpus().length} CPUs, ${runs} runs each, alternating, medians)`);
    console.log(`all: ${SYNTH} (the plugin built once by npm run build); the example's app: ${exampleAppCommand()}`);
    console.log('');
    for (const subject of subjects) {
      synth(subject);
    }
    for (let i = 0; i < runs; i++) {
      for (const subject of subjects) {
        subject.times.push(synth(subject));
      }
    }
    const exampleFiles = yamlFiles(example.outdir).length;
    if (exampleFiles === 0 || minimals.some((m) => yamlFiles(m.outdir).length !== 1)) {
      throw new Error(`synth-speed: expected YAML files from every app, got ${[example, ...minimals].map((s) => yamlFiles(s.outdir).length).join(', ')}`);
    }
    const width = Math.max(...subjects.map((s) => s.name.length));
    for (const subject of subjects) {
      const files = yamlFiles(subject.outdir).length;
      console.log(
        `${subject.name.padEnd(width)}  ${median(subject.times).toFixed(2)} s  (${files} files; runs: ${subject.times.map((t) => t.toFixed(2)).join(' ')})`,
      );
    }
    const fastest = (candidates: Subject[]): Subject => candidates.reduce((a, b) => (median(b.times) < median(a.times) ? b : a));
    const goal = (label: string, baseline: Subject): void => {
      const ratio = median(example.times) / median(baseline.times);
      console.log(
        `${ratio <= GOAL_RATIO ? 'PASS' : 'FAIL'} example synth is ${ratio.toFixed(2)}x ${label} (${baseline.name}; goal <= ${GOAL_RATIO}x, ` +
          `i.e. <= ${(GOAL_RATIO * median(baseline.times)).toFixed(2)} s)`,
      );
    };
    console.log('');
    for (const minimal of minimals) {
      console.log(`the example is ${(median(example.times) / median(minimal.times)).toFixed(2)}x the ${minimal.name}`);
    }
    const baseline = fastest(minimals);
    console.log(
      `the example without its validation plugin is ${(median(exampleNoValidate.times) / median(baseline.times)).toFixed(2)}x the fastest minimal app`,
    );
    goal('the fastest minimal app with ts-node transpile-only', fastest(minimals.filter((m) => m.name.includes('ts-node'))));
    goal('the fastest minimal app of all', baseline);
    pluginTime(yamlFiles(example.outdir).map((file) => path.join(example.outdir, file)), runs);

    if (args.includes('--breakdown')) {
      const appCommand = exampleAppCommand();
      const sameCommand = minimals[0];
      console.log('');
      console.log('breakdown (medians):');
      const appAlone = (subject: Subject): number[] => {
        const env = { ...commandEnv(), CDK8S_OUTDIR: path.join(subject.outdir, 'app-alone') };
        timed(appCommand, subject.dir, env);
        return Array.from({ length: runs }, () => timed(appCommand, subject.dir, env));
      };
      for (const subject of [example, sameCommand]) {
        console.log(`  ${subject.name.padEnd(width)}  app command alone (${appCommand}): ${median(appAlone(subject)).toFixed(2)} s`);
      }
      const empty = path.join(workDir, 'empty-out');
      const cliAlone = Array.from({ length: runs }, () =>
        timed(`${SYNTH} --output ${empty} --app 'mkdir -p $CDK8S_OUTDIR'`, sameCommand.dir),
      );
      console.log(`  ${'CLI alone'.padEnd(width)}  cdk8s synth with an app that only creates the output directory: ${median(cliAlone).toFixed(2)} s`);
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  synthSpeed(process.argv.slice(2));
}
