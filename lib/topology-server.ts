import { isIPv4, isIPv6 } from 'net';
import type { ITopologyServer } from './interfaces';
import { validateCellName } from './internal/names';

/** The longest DNS name. */
const DNS_NAME_MAX_LENGTH = 253;

/**
 * A topology server that the library does not run, known by its client address: an etcd cluster
 * outside the app (another namespace, outside Kubernetes, a managed etcd), or the global etcd
 * given again for a cell whose topology it also holds under the cell's own root.
 *
 * It stands wherever a construct takes an {@link ITopologyServer}: as the `globalTopology` of
 * Vtctld, Vtgate, Vtorc, TabletShard, VtworkerJob and VtworkerResharding, and as the `topology` of
 * an {@link AddCellInfoJob} that registers a cell. The Vitess servers get the address exactly as
 * they would get an {@link EtcdCell}'s client address.
 */
export class TopologyServer implements ITopologyServer {
  /**
   * The topology server of `cell` at `address`, checked here: `cell` is `global` or a cell name
   * (1 to 40 lowercase letters or digits, as {@link EtcdCell} takes them), and `address` is
   * `host:port` or a comma-separated list of `host:port`, as Vitess's `topo_global_server_address`
   * takes it (its etcd2 client splits the address at commas into the etcd endpoints). A host is a
   * DNS name, an IPv4 address or an IPv6 address in brackets (`[fd00::1]:2379`); a port is a whole
   * number from 1 to 65535. No scheme: releases whose addresses carry `http://`
   * ({@link VitessRelease.topoServerAddress}) get it added to each host.
   *
   * `TopologyServer.fromAddress('global', 'etcd.vitess-topo.svc:2379')` is the global topology of
   * an etcd cluster in the namespace `vitess-topo`;
   * `TopologyServer.fromAddress('test', 'etcd-a:2379,etcd-b:2379,etcd-c:2379')` a cell's etcd
   * reached at each of its three members.
   *
   * @param cell the topology cell the server holds: `global` or a cell name.
   * @param address the client address: `host:port`, or a comma-separated list of them.
   */
  public static fromAddress(cell: string, address: string): TopologyServer {
    const context = 'TopologyServer.fromAddress';
    validateCellName(context, 'cell', cell);
    validateTopologyAddress(context, 'address', address);
    return new TopologyServer(cell, address);
  }

  /** The topology cell: `global` or a cell name. */
  public readonly cell: string;
  /** The client address as given: `host:port`, or a comma-separated list of them. */
  public readonly clientAddress: string;

  private constructor(cell: string, clientAddress: string) {
    this.cell = cell;
    this.clientAddress = clientAddress;
  }
}

/**
 * Throws unless `address` is `host:port` or a comma-separated list of `host:port`: a DNS name, an
 * IPv4 address or a bracketed IPv6 address, then a port from 1 to 65535.
 */
function validateTopologyAddress(context: string, prop: string, address: string): void {
  const allowed =
    'host:port or a comma-separated list of host:port (a DNS name, an IPv4 address or an IPv6 address in brackets, ' +
    "and a port from 1 to 65535; no scheme, no spaces), e.g. 'etcd-global-client:2379'";
  if (typeof address !== 'string' || address === '') {
    throw new Error(`${context}: '${prop}' must be ${allowed}, got '${address}'`);
  }
  for (const hostPort of address.split(',')) {
    const problem = hostPortProblem(hostPort);
    if (problem !== undefined) {
      throw new Error(`${context}: '${prop}' must be ${allowed}, got '${address}': ${problem}`);
    }
  }
}

/** What is wrong with one `host:port` of a topology address, or undefined when nothing is. */
function hostPortProblem(hostPort: string): string | undefined {
  if (hostPort === '') {
    return 'an empty entry in the list';
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(hostPort)) {
    return `'${hostPort}' has a scheme`;
  }
  const match = /^(\[[^\]]*\]|[^:[\]]*):([0-9]+)$/.exec(hostPort);
  if (!match) {
    return `'${hostPort}' is not host:port`;
  }
  const [, host, port] = match;
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) {
    return `'${hostPort}' has the port '${port}', not a whole number from 1 to 65535`;
  }
  if (host.startsWith('[')) {
    return isIPv6(host.slice(1, -1)) ? undefined : `'${host}' is not an IPv6 address in brackets`;
  }
  if (/^[0-9.]+$/.test(host)) {
    return isIPv4(host) ? undefined : `'${host}' is not an IPv4 address`;
  }
  const label = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
  if (!new RegExp(`^${label}(\\.${label})*$`).test(host) || host.length > DNS_NAME_MAX_LENGTH) {
    return `'${host}' is not a DNS name (labels of letters, digits and '-' separated by '.', at most ${DNS_NAME_MAX_LENGTH} characters)`;
  }
  return undefined;
}
