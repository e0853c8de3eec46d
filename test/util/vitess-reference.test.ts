import { checkInvocations, vitessInvocations } from './vitess-reference';

function job(script: string): any {
  return {
    kind: 'Job',
    metadata: { name: 'j' },
    spec: { template: { spec: { containers: [{ name: 'c', command: ['/bin/bash', '-c', script] }] } } },
  };
}

function daemon(binary: string, args: string[]): any {
  return {
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { template: { spec: { containers: [{ name: 'c', command: [`/vt/bin/${binary}`], args }] } } },
  };
}

describe('the Vitess reference check', () => {
  test('accepts known legacy flags and commands', () => {
    const invocations = vitessInvocations([
      daemon('vtctld', ['-cell=test', '-port=15000', '-logtostderr']),
      job("/vt/bin/vtctlclient -server=vtctld:15999 InitShardMaster -force test_keyspace/0 test-0000000100 || exit 1\necho '/vt/bin/vtctlclient Nope'"),
      job('/vt/bin/vtworker -cell=test -use_v3_resharding_mode SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/-80'),
    ]);
    expect(invocations.map((i) => i.binary)).toEqual(['vtctld', 'vtctlclient', 'vtworker']);
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test('fails on an unknown daemon flag', () => {
    const problems = checkInvocations(vitessInvocations([daemon('vttablet', ['-tablet-path=test-100', '-no_such_flag=1'])]), 'legacy');
    expect(problems).toEqual(["Deployment/d c: vttablet: unknown vttablet flag '-no_such_flag=1'"]);
  });

  test('fails on a flag of another binary', () => {
    const problems = checkInvocations(vitessInvocations([daemon('vtgate', ['-init_keyspace=ks'])]), 'legacy');
    expect(problems).toHaveLength(1);
  });

  test('fails on a positional argument to a daemon', () => {
    const problems = checkInvocations(vitessInvocations([daemon('vtctld', ['cell'])]), 'legacy');
    expect(problems[0]).toMatch(/unexpected positional argument 'cell'/);
  });

  test('fails on an unknown vtctl command or command flag', () => {
    const problems = checkInvocations(
      vitessInvocations([
        job('/vt/bin/vtctlclient -server=vtctld:15999 InitShardPrimary -force ks/0 test-0000000100'),
        job('/vt/bin/vtctlclient -server=vtctld:15999 InitShardMaster -forced ks/0 test-0000000100'),
        job('/vt/bin/vtctlclient -serverx=vtctld:15999 GetShard ks/0'),
      ]),
      'legacy',
    );
    expect(problems).toEqual([
      "Job/j c: vtctlclient: unknown vtctl command 'InitShardPrimary'",
      "Job/j c: vtctlclient: unknown InitShardMaster flag '-forced'",
      "Job/j c: vtctlclient: unknown vtctlclient flag '-serverx=vtctld:15999'",
    ]);
  });

  test('fails on an unknown vtworker command', () => {
    const problems = checkInvocations(vitessInvocations([job('/vt/bin/vtworker -cell=test SplitCloneX ks/0')]), 'legacy');
    expect(problems).toEqual(["Job/j c: vtworker: unknown vtworker command 'SplitCloneX'"]);
  });

  test('fails on a binary the release does not have', () => {
    const problems = checkInvocations(vitessInvocations([job('/vt/bin/vtworker -cell=test SplitClone ks/0')]), 'modern');
    expect(problems).toEqual(["Job/j c: vtworker: binary 'vtworker' is not in Vitess v22.0.3"]);
  });

  test('checks vtctldclient commands, subcommands and flags', () => {
    const ok = job('/vt/bin/vtctldclient --server=vtctld:15999 Reshard --workflow=wf --target-keyspace=ks create --source-shards=0 --target-shards=-80,80-');
    expect(checkInvocations(vitessInvocations([ok]), 'modern')).toEqual([]);
    const bad = job('/vt/bin/vtctldclient --server=vtctld:15999 Reshard --workflow=wf --target-keyspace=ks create --source-shards=0 --target-shards -80,80- --nope');
    expect(checkInvocations(vitessInvocations([bad]), 'modern')).toEqual([
      "Job/j c: vtctldclient: argument '-80,80-' starts with a single '-': cobra reads it as shorthand flags (write --flag=value)",
      "Job/j c: vtctldclient: unknown Reshard flag '--nope'",
    ]);
    const unknown = job('/vt/bin/vtctldclient --server=vtctld:15999 Reshard --workflow=wf frobnicate');
    expect(checkInvocations(vitessInvocations([unknown]), 'modern')).toEqual([
      "Job/j c: vtctldclient: unknown Reshard subcommand 'frobnicate'",
    ]);
    // Subcommand aliases: SwitchTraffic is switchtraffic.
    const alias = job('/vt/bin/vtctldclient --server=vtctld:15999 Reshard --workflow=wf --target-keyspace=ks SwitchTraffic --tablet-types=primary');
    expect(checkInvocations(vitessInvocations([alias]), 'modern')).toEqual([]);
    const aliasBadFlag = job('/vt/bin/vtctldclient --server=vtctld:15999 Reshard --workflow=wf --target-keyspace=ks SwitchTraffic --source-shards=0');
    expect(checkInvocations(vitessInvocations([aliasBadFlag]), 'modern')).toEqual(["Job/j c: vtctldclient: unknown Reshard flag '--source-shards=0'"]);
  });

  test('fails on single-dash flags for a modern binary', () => {
    const problems = checkInvocations(vitessInvocations([daemon('vtctld', ['-cell=test'])]), 'modern');
    expect(problems).toEqual(["Deployment/d c: vtctld: vtctld flag '-cell=test' must be written with '--' (pflag)"]);
  });

  test('v24 (from reference/): dashed names only; the underscore spellings, --logtostderr and vtctld --cell are refused', () => {
    const ok = [
      daemon('vttablet', ['--init-keyspace=ks', '--tablet-path=test-100']),
      daemon('vtctld', ['--port=15000', '--grpc-port=15999', '--service-map=grpc-vtctl,grpc-vtctld']),
      job('/vt/bin/vtctldclient --server=vtctld:15999 --log_dir=/tmp Reshard --workflow=wf --target-keyspace=ks SwitchTraffic --tablet-types=primary'),
    ];
    expect(checkInvocations(vitessInvocations(ok), 'v24')).toEqual([]);
    const bad = [
      daemon('vttablet', ['--init_keyspace=ks', '--logtostderr', '--log-dir=/vt/logs']),
      daemon('vtctld', ['--cell=test', '-port=15000']),
      job('/vt/bin/vtctldclient --server=vtctld:15999 Reshard --workflow=wf --target_keyspace=ks complete'),
    ];
    expect(checkInvocations(vitessInvocations(bad), 'v24')).toEqual([
      "Deployment/d c: vttablet: unknown vttablet flag '--init_keyspace=ks'",
      "Deployment/d c: vttablet: unknown vttablet flag '--logtostderr'",
      "Deployment/d c: vttablet: unknown vttablet flag '--log-dir=/vt/logs'",
      "Deployment/d c: vtctld: unknown vtctld flag '--cell=test'",
      "Deployment/d c: vtctld: vtctld flag '-port=15000' must be written with '--' (pflag)",
      "Job/j c: vtctldclient: unknown Reshard flag '--target_keyspace=ks'",
    ]);
    const noWorker = checkInvocations(vitessInvocations([job('/vt/bin/vtworker -cell=test SplitClone ks/0')]), 'v24');
    expect(noWorker).toEqual(["Job/j c: vtworker: binary 'vtworker' is not in Vitess v24.0.4"]);
  });
});
