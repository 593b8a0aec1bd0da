/**
 * Names for protocols and a fallback for the usual service of well-known ports, used when a
 * run's statistics (stats/ports.ndjson, which carries the IANA names) are not available.
 */
const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp', 33: 'dccp', 47: 'gre', 50: 'esp' };

export function protocolName(protocol: number): string {
  return PROTOCOLS[protocol] ?? `proto-${protocol}`;
}

/** "tcp/22" */
export function portLabel(protocol: number, port: number): string {
  return `${protocolName(protocol)}/${port}`;
}

/** The services scanners look for most (names as IANA registers them), for TCP and UDP. */
const COMMON: Record<string, string> = {
  'tcp/21': 'ftp', 'tcp/22': 'ssh', 'tcp/23': 'telnet', 'tcp/25': 'smtp', 'tcp/53': 'domain', 'udp/53': 'domain',
  'tcp/80': 'http', 'tcp/81': 'hosts2-ns', 'tcp/110': 'pop3', 'udp/123': 'ntp', 'tcp/135': 'epmap', 'udp/137': 'netbios-ns',
  'tcp/139': 'netbios-ssn', 'tcp/143': 'imap', 'udp/161': 'snmp', 'tcp/443': 'https', 'udp/443': 'https',
  'tcp/445': 'microsoft-ds', 'udp/500': 'isakmp', 'tcp/587': 'submission', 'tcp/993': 'imaps', 'tcp/995': 'pop3s',
  'udp/1900': 'ssdp', 'tcp/1433': 'ms-sql-s', 'tcp/1521': 'ncube-lm', 'tcp/1723': 'pptp', 'tcp/2323': '3d-nfsd',
  'tcp/2375': 'docker', 'tcp/3306': 'mysql', 'tcp/3389': 'ms-wbt-server', 'udp/3478': 'stun', 'tcp/5060': 'sip',
  'udp/5060': 'sip', 'tcp/5432': 'postgresql', 'tcp/5555': 'personal-agent', 'tcp/5900': 'rfb', 'tcp/6379': 'redis',
  'tcp/7547': 'cwmp', 'tcp/8080': 'http-alt', 'tcp/8443': 'pcsync-https', 'tcp/8888': 'ddi-tcp-1', 'tcp/9200': 'wap-wsp',
  'tcp/11211': 'memcache', 'udp/11211': 'memcache',
};

export function commonService(protocol: number, port: number): string | null {
  return COMMON[portLabel(protocol, port)] ?? null;
}
