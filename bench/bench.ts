/**
 * In-process synthesis benchmark: for the example (both flows, every phase chart and the
 * rollbacks) and for generated clusters of 64, 256 and 1,024 tablets, how long synthesis takes,
 * how much memory it needs, and how long YAML serialization of the same objects alone takes.
 *
 * What is measured, per case, each case in fresh child processes so that neither memory peaks
 * nor JIT warm-up mix between cases:
 * - `construct`: building the apps (`new App`, the charts and every construct);
 * - `app.synth`: `app.synth()` of every app into a temporary directory (resolving, validating,
 *   `toJson()`, YAML serialization and file writes), as the CLI's app command does;
 * - `synth` = `construct` + `app.synth`, the in-process cost of `cdk8s synth` without the CLI,
 *   Node start-up and TypeScript transpilation;
 * - `YAML`: `Yaml.save()` (cdk8s's own serializer, the one `app.synth()` uses) of the plain JSON
 *   objects of every chart, taken from the synthesized apps beforehand, into a second temporary
 *   directory: the same files, byte for byte (checked), without building or resolving anything.
 * Times are medians of `--runs` runs (default 5) after one warm-up run, in one process per case,
 * with a full garbage collection before each run; `cold` is the first run of a fresh process.
 * `peak RSS` is the child's `process.resourceUsage().maxRSS` over a single cold run (module loading
 * included); `heap` is the V8 heap in use right after that run, with the apps still referenced.
 *
 * Then it runs the CLI comparison of `synth-speed.ts` (the example's `npm run synth` against a
 * minimal app's) with the same `--runs`.
 *
 * Usage: `npm run bench [-- --runs 5 --breakdown]`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Yaml } from 'cdk8s';
import {
  BackupStorage,
  EtcdCell,
  KeyRange,
  TabletShard,
  VitessRelease,
  Vtctld,
  Vtgate,
} from '../lib';
import { buildApps } from '../main';
import { synthSpeed } from './synth-speed';
import { argValue, median, runsArg, yamlFiles } from './util';

/** Tablets per generated shard: 3 replica and 1 rdonly. */
const TABLETS_PER_SHARD = 4;
/** The generated cluster sizes, in tablets. */
const TABLET_COUNTS = [64, 256, 1024];

/** Goals of the project's performance requirements. */
const GOALS = {
  /** synth time at most this many times the YAML serialization time of the same objects. */
  synthOverSerialization: 3,
  /** 4x the tablets takes at most this many times as long. */
  scaling: 4.5,
  /** peak RSS at 1,024 tablets, MiB. */
  peakRssMiB: 400,
};

interface Case {
  readonly name: string;
  readonly tablets?: number;
  readonly build: (outdir: string) => App[];
}

/**
 * A cluster of `tablets` tablets on Vitess v22 in cell `zone1`: etcd for `global` and `zone1`,
 * vtctld and vtgate in chart `cluster`; keyspace `bench` split into `tablets / 4` equal shards of
 * 4 tablets each in chart `tablets`; a primary-election Job per shard in chart `init`.
 */
function buildCluster(outdir: string, tablets: number): App[] {
  if (tablets % TABLETS_PER_SHARD !== 0) {
    throw new Error(`bench: a generated cluster needs a multiple of ${TABLETS_PER_SHARD} tablets, got ${tablets}`);
  }
  const app = new App({ outdir });
  const chart = (id: string): Chart => new Chart(app, id, { disableResourceNameHashes: true });
  const release = VitessRelease.V22_0;
  const cell = 'zone1';
  const backup = BackupStorage.nfs({ server: 'nfs.internal', path: '/exports/vitess' });

  const cluster = chart('cluster');
  const globalTopology = new EtcdCell(cluster, 'EtcdGlobal', { cell: 'global' });
  const zone = new EtcdCell(cluster, 'EtcdZone1', { cell });
  const vtctld = new Vtctld(cluster, 'Vtctld', { release, globalTopology, cell, backup });
  new Vtgate(cluster, 'Vtgate', { release, globalTopology, cell });

  const tabletsChart = chart('tablets');
  const init = chart('init');
  zone.addCellInfoJob(init, 'AddCellInfo', vtctld);
  KeyRange.equalShards(tablets / TABLETS_PER_SHARD).forEach((shard, i) => {
    const tabletShard = new TabletShard(tabletsChart, `Shard${i}`, {
      release,
      globalTopology,
      vtctld,
      cell,
      keyspace: 'bench',
      shard,
      uidBase: 100 + i * TABLETS_PER_SHARD,
      replicaCount: 3,
      rdonlyCount: 1,
      backup,
    });
    tabletShard.initPrimaryJob(init, `InitPrimary${i}`, vtctld);
  });
  return [app];
}

const CASES: readonly Case[] = [
  { name: 'example', build: (outdir) => buildApps(outdir) },
  ...TABLET_COUNTS.map((tablets) => ({
    name: `${tablets} tablets`,
    tablets,
    build: (outdir: string) => buildCluster(outdir, tablets),
  })),
];

/** One run's measurements, in milliseconds. */
interface Run {
  readonly constructMs: number;
  readonly appSynthMs: number;
  readonly synthMs: number;
  readonly yamlMs: number;
  readonly files: number;
  readonly objects: number;
  readonly bytes: number;
  readonly tabletStatefulSets: number;
}

/** What a child process reports. */
interface ChildResult {
  readonly runs: Run[];
  /** RSS after loading the modules, before the first run, MiB. */
  readonly rssBeforeMiB: number;
  /** Peak RSS of the process, MiB. */
  readonly maxRssMiB: number;
  /** V8 heap in use after the runs, the last run's apps still referenced, MiB. */
  readonly heapMiB: number;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) {
    throw new Error('bench: run node with --expose-gc');
  }
  collect();
}

/** One measured run of `benchCase`; `keep` receives the apps so they stay referenced. */
function runOnce(benchCase: Case, keep: (apps: App[]) => void): Run {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-vitess-bench-'));
  try {
    const synthDir = path.join(workDir, 'synth');
    const yamlDir = path.join(workDir, 'yaml');
    gc();

    const t0 = process.hrtime.bigint();
    const apps = benchCase.build(synthDir);
    const t1 = process.hrtime.bigint();
    for (const app of apps) {
      app.synth();
    }
    const t2 = process.hrtime.bigint();

    // The plain objects of every chart file, as app.synth() wrote them (not timed).
    const outputs = apps.flatMap((app) =>
      app.charts.map((chart) => ({
        file: path.join(path.relative(synthDir, app.outdir), `${chart.node.id}${app.outputFileExtension}`),
        objects: Object.values(chart.toJson()),
      })),
    );
    for (const dir of new Set(outputs.map((o) => path.dirname(path.join(yamlDir, o.file))))) {
      fs.mkdirSync(dir, { recursive: true });
    }
    gc();

    const t3 = process.hrtime.bigint();
    for (const output of outputs) {
      Yaml.save(path.join(yamlDir, output.file), output.objects);
    }
    const t4 = process.hrtime.bigint();

    // The same files, byte for byte: otherwise the comparison would be meaningless.
    const files = yamlFiles(synthDir);
    if (files.join('\n') !== yamlFiles(yamlDir).join('\n')) {
      throw new Error(`bench ${benchCase.name}: app.synth() wrote [${files.join(', ')}] but Yaml.save wrote [${yamlFiles(yamlDir).join(', ')}]`);
    }
    let bytes = 0;
    for (const file of files) {
      const synthesized = fs.readFileSync(path.join(synthDir, file));
      if (!synthesized.equals(fs.readFileSync(path.join(yamlDir, file)))) {
        throw new Error(`bench ${benchCase.name}: ${file} differs between app.synth() and Yaml.save`);
      }
      bytes += synthesized.length;
    }
    const objects = outputs.flatMap((o) => o.objects);
    keep(apps);
    const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;
    return {
      constructMs: ms(t0, t1),
      appSynthMs: ms(t1, t2),
      synthMs: ms(t0, t2),
      yamlMs: ms(t3, t4),
      files: files.length,
      objects: objects.length,
      bytes,
      tabletStatefulSets: objects.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('vttablet-')).length,
    };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** In a child process: `warmup` unmeasured runs, then `runs` measured ones. */
function child(caseName: string, warmup: number, runs: number): ChildResult {
  gc();
  const rssBeforeMiB = process.memoryUsage().rss / 1024 / 1024;
  const benchCase = CASES.find((c) => c.name === caseName);
  if (!benchCase) {
    throw new Error(`bench: no case '${caseName}'; the cases are ${CASES.map((c) => `'${c.name}'`).join(', ')}`);
  }
  let kept: App[] = [];
  for (let i = 0; i < warmup; i++) {
    runOnce(benchCase, () => undefined);
  }
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    // Only the last run's apps stay referenced, so that earlier ones do not burden later runs.
    results.push(runOnce(benchCase, (apps) => (kept = i === runs - 1 ? apps : [])));
  }
  if (kept.length === 0) {
    throw new Error('bench: no apps were built');
  }
  gc();
  const heapMiB = process.memoryUsage().heapUsed / 1024 / 1024;
  return { runs: results, rssBeforeMiB, maxRssMiB: process.resourceUsage().maxRSS / 1024, heapMiB };
}

function spawnChild(caseName: string, warmup: number, runs: number): ChildResult {
  const result = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-r',
      'ts-node/register/transpile-only',
      __filename,
      '--child',
      caseName,
      '--warmup',
      String(warmup),
      '--runs',
      String(runs),
    ],
    { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (result.status !== 0) {
    throw new Error(`bench: case '${caseName}' failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

interface Row {
  readonly benchCase: Case;
  readonly cold: Run;
  readonly rssBeforeMiB: number;
  readonly maxRssMiB: number;
  readonly heapMiB: number;
  readonly constructMs: number;
  readonly appSynthMs: number;
  readonly synthMs: number;
  readonly yamlMs: number;
  readonly sample: Run;
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

function main(args: string[]): number {
  const runs = runsArg(args);
  console.log(`cdk8s-vitess synthesis benchmark (Node ${process.version}, ${os.cpus().length} CPUs, ${runs} runs per case, medians)`);
  console.log('');

  const rows: Row[] = [];
  for (const benchCase of CASES) {
    const memory = spawnChild(benchCase.name, 0, 1);
    const timing = spawnChild(benchCase.name, 1, runs);
    const sample = timing.runs[0];
    if (benchCase.tablets !== undefined && sample.tabletStatefulSets !== benchCase.tablets) {
      throw new Error(`bench: case '${benchCase.name}' synthesized ${sample.tabletStatefulSets} tablet StatefulSets`);
    }
    rows.push({
      benchCase,
      cold: memory.runs[0],
      rssBeforeMiB: memory.rssBeforeMiB,
      maxRssMiB: memory.maxRssMiB,
      heapMiB: memory.heapMiB,
      constructMs: median(timing.runs.map((r) => r.constructMs)),
      appSynthMs: median(timing.runs.map((r) => r.appSynthMs)),
      synthMs: median(timing.runs.map((r) => r.synthMs)),
      yamlMs: median(timing.runs.map((r) => r.yamlMs)),
      sample,
    });
  }

  const header = [
    pad('case', 12),
    pad('files', 6),
    pad('objects', 8),
    pad('YAML MiB', 9),
    pad('construct', 10),
    pad('app.synth', 10),
    pad('synth', 9),
    pad('YAML', 9),
    pad('synth/YAML', 11),
    pad('cold synth', 11),
    pad('RSS before', 11),
    pad('peak RSS', 9),
    pad('heap', 8),
  ].join(' ');
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const row of rows) {
    console.log(
      [
        pad(row.benchCase.name, 12),
        pad(row.sample.files, 6),
        pad(row.sample.objects, 8),
        pad((row.sample.bytes / 1024 / 1024).toFixed(2), 9),
        pad(`${row.constructMs.toFixed(1)} ms`, 10),
        pad(`${row.appSynthMs.toFixed(1)} ms`, 10),
        pad(`${row.synthMs.toFixed(1)} ms`, 9),
        pad(`${row.yamlMs.toFixed(1)} ms`, 9),
        pad(`${(row.synthMs / row.yamlMs).toFixed(2)}x`, 11),
        pad(`${row.cold.synthMs.toFixed(1)} ms`, 11),
        pad(`${row.rssBeforeMiB.toFixed(0)} MiB`, 11),
        pad(`${row.maxRssMiB.toFixed(0)} MiB`, 9),
        pad(`${row.heapMiB.toFixed(0)} MiB`, 8),
      ].join(' '),
    );
  }
  console.log('');
  console.log('construct: building the apps; app.synth: app.synth() to files; synth = both; YAML: Yaml.save of the');
  console.log('same plain objects to the same files (checked identical); cold: first run of a fresh process;');
  console.log('RSS before: after loading Node, ts-node and the modules; peak RSS: maxRSS of that fresh process');
  console.log('over one cold run; heap: V8 heap in use after that run, apps still referenced.');
  console.log('');

  const checks: { ok: boolean; text: string }[] = [];
  for (const row of rows) {
    const ratio = row.synthMs / row.yamlMs;
    checks.push({
      ok: ratio <= GOALS.synthOverSerialization,
      text: `${row.benchCase.name}: synth ${row.synthMs.toFixed(1)} ms is ${ratio.toFixed(2)}x YAML serialization ${row.yamlMs.toFixed(1)} ms (goal <= ${GOALS.synthOverSerialization}x)`,
    });
  }
  const generated = rows.filter((r) => r.benchCase.tablets !== undefined);
  for (let i = 1; i < generated.length; i++) {
    const small = generated[i - 1];
    const large = generated[i];
    const ratio = large.synthMs / small.synthMs;
    checks.push({
      ok: ratio <= GOALS.scaling,
      text: `${small.benchCase.tablets} -> ${large.benchCase.tablets} tablets: synth ${small.synthMs.toFixed(1)} -> ${large.synthMs.toFixed(1)} ms, ${ratio.toFixed(2)}x (goal <= ${GOALS.scaling}x)`,
    });
  }
  const largest = generated.find((r) => r.benchCase.tablets === 1024);
  if (largest) {
    checks.push({
      ok: largest.maxRssMiB <= GOALS.peakRssMiB,
      text: `1024 tablets: peak RSS ${largest.maxRssMiB.toFixed(0)} MiB (goal <= ${GOALS.peakRssMiB} MiB)`,
    });
  }
  for (const check of checks) {
    console.log(`${check.ok ? 'PASS' : 'FAIL'} ${check.text}`);
  }

  console.log('');
  synthSpeed(args);
  // A benchmark reports; it does not fail the build on a slow or busy machine.
  return 0;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.includes('--child')) {
    const result = child(
      argValue(args, '--child', ''),
      Number(argValue(args, '--warmup', '1')),
      runsArg(args),
    );
    console.log(JSON.stringify(result));
  } else {
    process.exitCode = main(args);
  }
}
