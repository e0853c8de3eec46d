import { k8s } from '../imports/k8s';
import { VitessRelease } from './release';

/** Where the backup volume is mounted unless told otherwise. */
const DEFAULT_BACKUP_MOUNT_PATH = '/vt/backups';

/**
 * Options for an NFS backup volume.
 */
export interface NfsBackupOptions {
  /** The NFS server's host name or IP address. */
  readonly server: string;
  /** The exported path on the server; it must be writable by UID 999 (the `vitess` user). */
  readonly path: string;
  /**
   * Where the volume is mounted in vtctld and every tablet; also `-file_backup_storage_root`.
   * @default /vt/backups
   */
  readonly mountPath?: string;
}

/**
 * Options for a backup volume from an existing PersistentVolumeClaim.
 */
export interface ClaimBackupOptions {
  /** The name of a ReadWriteMany PersistentVolumeClaim in the same namespace. */
  readonly claimName: string;
  /**
   * Where the volume is mounted in vtctld and every tablet; also `-file_backup_storage_root`.
   * @default /vt/backups
   */
  readonly mountPath?: string;
}

/**
 * File backup storage on a shared (ReadWriteMany) volume: the same volume at the same path in
 * vtctld and in every tablet, with `-backup_storage_implementation file`.
 */
export class BackupStorage {
  /**
   * Backups on an NFS export.
   */
  public static nfs(options: NfsBackupOptions): BackupStorage {
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(options.server) && !/^\[?[0-9a-fA-F:]+\]?$/.test(options.server)) {
      throw new Error(
        `BackupStorage.nfs: 'server' must be a host name or an IP address, got '${options.server}'`,
      );
    }
    if (!options.path.startsWith('/') || /\s/.test(options.path)) {
      throw new Error(`BackupStorage.nfs: 'path' must be an absolute path without spaces, got '${options.path}'`);
    }
    return new BackupStorage(
      { name: 'backups', nfs: { server: options.server, path: options.path } },
      options.mountPath ?? DEFAULT_BACKUP_MOUNT_PATH,
      'BackupStorage.nfs',
    );
  }

  /**
   * Backups on an existing ReadWriteMany PersistentVolumeClaim (e.g. one bound to an NFS
   * PersistentVolume or a CSI file share).
   */
  public static persistentVolumeClaim(options: ClaimBackupOptions): BackupStorage {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.claimName) || options.claimName.length > 253) {
      throw new Error(
        `BackupStorage.persistentVolumeClaim: 'claimName' must be a DNS-1123 subdomain, got '${options.claimName}'`,
      );
    }
    return new BackupStorage(
      { name: 'backups', persistentVolumeClaim: { claimName: options.claimName } },
      options.mountPath ?? DEFAULT_BACKUP_MOUNT_PATH,
      'BackupStorage.persistentVolumeClaim',
    );
  }

  /** The pod volume (named `backups`). */
  public readonly volume: k8s.Volume;
  /** Where the volume is mounted, and the file backup storage root. */
  public readonly mountPath: string;

  private constructor(volume: k8s.Volume, mountPath: string, context: string) {
    if (!mountPath.startsWith('/') || mountPath === '/' || mountPath.startsWith('/vt/vtdataroot')) {
      throw new Error(
        `${context}: 'mountPath' must be an absolute path outside /vt/vtdataroot, got '${mountPath}'`,
      );
    }
    this.volume = volume;
    this.mountPath = mountPath;
  }

  /** The mount of the backup volume. */
  public get volumeMount(): k8s.VolumeMount {
    return { name: this.volume.name, mountPath: this.mountPath };
  }

  /** The flags that make a Vitess binary use this storage. */
  public flags(release: VitessRelease): string[] {
    return [
      release.flag('backup_storage_implementation', 'file'),
      release.flag('file_backup_storage_root', this.mountPath),
    ];
  }
}
