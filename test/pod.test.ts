import { podIpEnv, resources, restrictedContainerSecurityContext, vitessPodSecurityContext } from '../lib/pod';

describe('pod building blocks', () => {
  test('Vitess pods run as the numeric vitess user', () => {
    expect(vitessPodSecurityContext()).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(restrictedContainerSecurityContext()).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  test('requests and a memory limit, no CPU limit', () => {
    const r = resources('100m', '128Mi', '256Mi');
    expect(r.requests!.cpu.value).toBe('100m');
    expect(r.requests!.memory.value).toBe('128Mi');
    expect(Object.keys(r.limits!)).toEqual(['memory']);
  });

  test('POD_IP from the downward API', () => {
    expect(podIpEnv()).toEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  });
});
