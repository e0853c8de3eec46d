// What a container that runs a Vitess binary takes from a BackupStorage. Not part of the public API.
import { k8s } from '../../imports/k8s';
import type { BackupStorage } from '../backup-storage';
import type { VitessRelease } from '../release';
import { daemonFlagNames } from './pod-extensions';

/** The flags, environment, mounts and volumes of one container using a backup storage. */
export interface BackupContainerParts {
  readonly flags: string[];
  readonly env: k8s.EnvVar[];
  readonly volumeMounts: k8s.VolumeMount[];
  readonly volumes: k8s.Volume[];
}

/**
 * The storage's flags as `release` spells them, its environment, mounts and volumes, for a container
 * of `binary` (`vtctld`, `vttablet`); nothing without a storage. Throws, under `context`, when the
 * binary of that release lacks one of the flags (checked against `lib/data/vitess-daemon-flags.json`;
 * a release it has no list for is not checked), naming the release and the flag.
 */
export function backupContainerParts(
  context: string,
  release: VitessRelease,
  binary: string,
  storage: BackupStorage | undefined,
): BackupContainerParts {
  if (storage === undefined) {
    return { flags: [], env: [], volumeMounts: [], volumes: [] };
  }
  const flags = storage.flags(release);
  const known = daemonFlagNames(release, binary);
  if (known !== undefined) {
    for (const flag of flags) {
      const name = flag.replace(/^-+/, '').split('=')[0];
      if (!known.includes(`--${name}`)) {
        throw new Error(
          `${context}: ${storage._context} needs ${flag.split('=')[0]}, which ${binary} of Vitess ${release.version} does not have`,
        );
      }
    }
  }
  return {
    flags,
    env: [...storage.env],
    volumeMounts: [...storage.volumeMounts],
    volumes: [...storage.volumes],
  };
}
