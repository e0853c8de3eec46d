// The bash script that command Jobs run. Not part of the public API.
import { JobCondition } from './job-condition';
import { VitessRelease } from './release';
import { shellCommand, shellQuote } from './shell';

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
