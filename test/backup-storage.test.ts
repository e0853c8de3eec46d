import { BackupStorage, VitessRelease } from '../lib';

describe('BackupStorage', () => {
  test('NFS: the volume, its mount and the file storage flags', () => {
    const backup = BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess' });
    expect(backup.volume).toEqual({ name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess' } });
    expect(backup.volumeMount).toEqual({ name: 'backups', mountPath: '/vt/backups' });
    expect(backup.flags(VitessRelease.V9_0)).toEqual(['-backup_storage_implementation=file', '-file_backup_storage_root=/vt/backups']);
  });

  test('an existing claim at another path', () => {
    const backup = BackupStorage.persistentVolumeClaim({ claimName: 'vitess-backups', mountPath: '/backup' });
    expect(backup.volume).toEqual({ name: 'backups', persistentVolumeClaim: { claimName: 'vitess-backups' } });
    expect(backup.flags(VitessRelease.V9_0)).toContain('-file_backup_storage_root=/backup');
  });

  test('fails for a bad NFS server or path', () => {
    expect(() => BackupStorage.nfs({ server: 'nfs server', path: '/x' })).toThrow(/'server' must be a host name or an IP address, got 'nfs server'/);
    expect(() => BackupStorage.nfs({ server: 'nfs', path: 'exports' })).toThrow(/'path' must be an absolute path without spaces, got 'exports'/);
  });

  test('fails for a mount path inside the data directory', () => {
    expect(() => BackupStorage.nfs({ server: 'nfs', path: '/x', mountPath: '/vt/vtdataroot/backups' })).toThrow(
      /'mountPath' must be an absolute path outside \/vt\/vtdataroot, got '\/vt\/vtdataroot\/backups'/,
    );
  });

  test('fails for a bad claim name', () => {
    expect(() => BackupStorage.persistentVolumeClaim({ claimName: 'Backups' })).toThrow(/'claimName' must be a DNS-1123 subdomain, got 'Backups'/);
  });
});
