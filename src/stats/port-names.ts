/**
 * Names for protocols and the usual service of a port (IANA registry), used when a run's
 * statistics (stats/ports.ndjson, which carries the IANA names) are not available.
 */
import { services } from './services.js';

const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp', 33: 'dccp', 47: 'gre', 50: 'esp' };

export function protocolName(protocol: number): string {
  return PROTOCOLS[protocol] ?? `proto-${protocol}`;
}

/** "tcp/22" */
export function portLabel(protocol: number, port: number): string {
  return `${protocolName(protocol)}/${port}`;
}

/** The IANA service name of a (protocol, port), from the registry data the statistics use. */
export function commonService(protocol: number, port: number): string | null {
  return services().lookup(protocol, port)?.name ?? null;
}
