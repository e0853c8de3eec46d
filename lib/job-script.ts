// The bash script and the Job object of command Jobs. Not part of the public API.
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import { CommandJobOptions, JobCondition } from './job-condition';
import { APP_LABEL, restrictedContainerSecurityContext, vitessPodSecurityContext } from './pod';
import { VitessRelease } from './release';
import { shellCommand, shellQuote } from './shell';
import { IVtctld } from './vtctld';

/** How long one check command may take. */
const CHECK_TIMEOUT_SECONDS = 30;

/** The client binary and its server flag, e.g. `/vt/bin/vtctlclient -server=vtctld:15999`. */
export function clientPrefix(release: VitessRelease, grpcAddress: string): string[] {
  return [`/vt/bin/${release.vtctlClient}`, release.flag('server', grpcAddress)];
}

export interface ScriptOptions {
  readonly client: string[];
  readonly release: VitessRelease;
  readonly waitFor: readonly JobCondition[];
  readonly skipIf?: JobCondition;
  readonly commands: ReadonlyArray<readonly string[]>;
  readonly waitTimeout: number;
  readonly pollInterval: number;
}

/**
 * The bash script of a command Job: wait for each condition (bounded), succeed without acting when
 * the skip condition holds, then run the commands in order, failing at the first that fails.
 */
export function renderScript(options: ScriptOptions): string {
  const lines: string[] = [
    'set -u',
    `deadline=$(( $(date +%s) + ${options.waitTimeout} ))`,
    'wait_for() {',
    '  echo "waiting for: $2"',
    '  until "$1"; do',
    '    if [ "$(date +%s)" -ge "$deadline" ]; then',
    `      echo "FAILED: gave up after ${options.waitTimeout}s waiting for: $2" >&2`,
    '      echo "last output of the check:" >&2',
    '      cat /tmp/check.out >&2',
    '      exit 1',
    '    fi',
    `    sleep ${options.pollInterval}`,
    '  done',
    '  echo "ready: $2"',
    '}',
  ];
  const renderCheck = (fn: string, condition: JobCondition): void => {
    const check = condition._render(options.release);
    lines.push(`${fn}() {`);
    lines.push(
      `  timeout ${CHECK_TIMEOUT_SECONDS} ${shellCommand([...options.client, ...check.command])} >/tmp/check.out 2>&1 || return 1`,
    );
    for (const pattern of check.present) {
      lines.push(`  grep -Eq ${shellQuote(pattern)} /tmp/check.out || return 1`);
    }
    for (const pattern of check.absent) {
      lines.push(`  if grep -Eq ${shellQuote(pattern)} /tmp/check.out; then return 1; fi`);
    }
    lines.push('  return 0');
    lines.push('}');
  };
  options.waitFor.forEach((condition, i) => {
    renderCheck(`precondition_${i + 1}`, condition);
    lines.push(`wait_for precondition_${i + 1} ${shellQuote(condition.description)}`);
  });
  if (options.skipIf) {
    renderCheck('already_done', options.skipIf);
    lines.push('if already_done; then');
    lines.push(`  echo ${shellQuote(`already done (${options.skipIf.description}): nothing to do`)}`);
    lines.push('  exit 0');
    lines.push('fi');
  }
  for (const command of options.commands) {
    const rendered = shellCommand(command);
    lines.push(`echo ${shellQuote(`+ ${rendered}`)}`);
    lines.push(`${rendered} || { status=$?; echo "FAILED with exit status $status:" ${shellQuote(rendered)} >&2; exit 1; }`);
  }
  lines.push('echo "done"');
  return lines.join('\n') + '\n';
}

/** What one command Job runs, besides the options every command Job takes. */
export interface CommandJobSpec {
  /** The construct and Job name for error messages, e.g. `VtctlJob vtctl-backup`. */
  readonly context: string;
  readonly jobName: string;
  /** The `component` label and the container name. */
  readonly component: string;
  readonly containerName: string;
  readonly vtctld: IVtctld;
  /** Full argvs, run in order after the waits and the skip check. */
  readonly commands: ReadonlyArray<readonly string[]>;
  readonly backoffLimit: number;
  readonly resources: k8s.ResourceRequirements;
  readonly ports?: k8s.ContainerPort[];
}

/**
 * Validates the options, renders the script and creates the Job (id `Resource`) in `scope`. The
 * caller has validated the Job name and its own commands.
 */
export function createCommandJob(scope: Construct, spec: CommandJobSpec, options: CommandJobOptions): k8s.KubeJob {
  const release = spec.vtctld.release;
  const waitFor = options.waitFor ?? [JobCondition.vtctldReachable()];
  for (const condition of [...waitFor, ...(options.skipIf ? [options.skipIf] : [])]) {
    release.requireVtctlCommand(condition._render(release).command[0], spec.context);
  }
  if (!Number.isInteger(spec.backoffLimit) || spec.backoffLimit < 0) {
    throw new Error(`${spec.context}: 'backoffLimit' must be a whole number of at least 0, got ${spec.backoffLimit}`);
  }
  const waitTimeout = (options.waitTimeout ?? Duration.minutes(10)).toSeconds();
  const pollInterval = (options.pollInterval ?? Duration.seconds(5)).toSeconds();
  if (waitTimeout < pollInterval) {
    throw new Error(
      `${spec.context}: 'waitTimeout' (${waitTimeout}s) must be at least 'pollInterval' (${pollInterval}s)`,
    );
  }
  const script = renderScript({
    client: clientPrefix(release, spec.vtctld.grpcAddress),
    release,
    waitFor,
    skipIf: options.skipIf,
    commands: spec.commands,
    waitTimeout,
    pollInterval,
  });

  const labels = { ...APP_LABEL, component: spec.component, job: spec.jobName };
  return new k8s.KubeJob(scope, 'Resource', {
    metadata: { name: spec.jobName, labels },
    spec: {
      backoffLimit: spec.backoffLimit,
      ttlSecondsAfterFinished: (options.ttlAfterFinished ?? Duration.days(1)).toSeconds(),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: vitessPodSecurityContext(),
          containers: [
            {
              name: spec.containerName,
              image: release.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/bash', '-c', script],
              ports: spec.ports,
              resources: spec.resources,
              securityContext: restrictedContainerSecurityContext(),
            },
          ],
        },
      },
    },
  });
}
