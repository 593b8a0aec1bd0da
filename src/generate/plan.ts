/**
 * The address plan of the synthetic estate: clouds, accounts, regions, the flow logs
 * ("streams") that watch them and the endpoints behind each. Private IPv4 addresses are
 * assigned by a fixed scheme, so the same private address recurs in several accounts
 * (10.0.1.10 in two accounts is two endpoints, detection.md §3). Identifiers (account ids,
 * subscription GUIDs, ENIs, MACs) come from the seed.
 *
 * The public address pools are disjoint by first octet: benign clients, outbound
 * services and each planted entity never share a source address, so no benign traffic
 * can add endpoints to a planted key (and the ground truth only has to follow the
 * planted sources).
 */
import { Rng, streamSeed } from './prng.js';

export type CloudName = 'aws' | 'azure' | 'gcp';
export const ALL_CLOUDS: readonly CloudName[] = ['aws', 'azure', 'gcp'];
export type StreamKind = 'aws-v2' | 'aws-v5' | 'azure-nsg' | 'azure-vnet' | 'gcp';

/** What an endpoint serves to the internet (SG / NSG / firewall rules follow from it). */
export type Role = 'web' | 'api' | 'ssh' | 'windows' | 'app' | 'db' | 'dns';

const OPEN_TCP: Record<Role, number[]> = {
  web: [80, 443],
  api: [443, 8443],
  ssh: [22],
  windows: [3389],
  app: [8080],
  db: [],
  dns: [53],
};
const OPEN_UDP: Record<Role, number[]> = { web: [], api: [], ssh: [], windows: [], app: [], db: [], dns: [53] };
const ROLE_CYCLE: Role[] = ['web', 'web', 'api', 'ssh', 'web', 'windows', 'app', 'db', 'web', 'dns'];

export interface Endpoint {
  id: number; // index in Plan.endpoints
  cloud: CloudName;
  account: string;
  region: string;
  stream: Stream;
  ip: string; // private IPv4
  ip6: string | null; // public IPv6 (only where the flow log gives the direction: AWS v5)
  role: Role;
  tcp: readonly number[]; // TCP ports open to the internet
  udp: readonly number[];
  iface: string; // AWS ENI id; Azure NIC MAC (12 upper-case hex digits)
  instance: string; // AWS instance id; Azure / GCP VM name
  subnet: string; // AWS subnet id; GCP subnetwork name
  zone: string; // AWS az-id; GCP zone
  /** Pre-rendered JSON blocks for GCP records (built once: they are on the record path). */
  gcpDest?: string;
  gcpSrc?: string;
  gcpDestVpc?: string;
  gcpSrcVpc?: string;
  gcpResource?: string;
}

export interface Stream {
  index: number;
  cloud: CloudName;
  kind: StreamKind;
  account: string;
  region: string;
  endpoints: Endpoint[];
  /** Endpoints that serve something to the internet (targets of benign clients). */
  servers: Endpoint[];
  /** Share of the cloud's benign volume. */
  weight: number;
  /** Records written for benign traffic (drives the volume budget). */
  benignRecords: number;
  // AWS
  flowLogId?: string;
  vpcId?: string;
  // Azure
  resourceGroup?: string;
  resourceId?: string; // NSG resource id (as written in the records), or the VNet flow log's id
  targetResourceId?: string; // VNet flow logs: the VNet
  systemId?: string; // NSG system id / VNet flow log GUID
  aclId?: string;
  // GCP
  project?: string;
  vpcName?: string;
  subnetId?: string;
}

export interface Plan {
  clouds: CloudName[];
  streams: Stream[];
  endpoints: Endpoint[];
  /** Public addresses our hosts talk to (outbound traffic), with the port they serve. */
  services: Array<{ ip: string; port: number; proto: number }>;
  /** Azure resource id / subscription -> region, for --region-map. */
  regionMap: Record<string, string>;
}

// first octets of each public pool (all public under detection.md §3; pairwise disjoint)
export const BENIGN_ONE_OFF_OCTETS = [5, 31, 37, 46];
export const BENIGN_REGULAR_OCTETS = [78, 82, 91];
export const SCANNER_OCTETS = [185, 193, 45, 176, 89, 141];
export const NEGATIVE_OCTETS = [104, 23, 66];
export const BENIGN_V6_PREFIX = '2a02:8108'; // one-off IPv6 clients
export const PLANTED_V6_PREFIX = '2a01:4f8'; // planted IPv6 sources

const AWS_V6_PREFIX: Record<string, string> = {
  'us-east-1': '2600:1f18',
  'us-west-2': '2600:1f14',
  'eu-west-1': '2a05:d018',
  'eu-central-1': '2a05:d014',
  'ap-southeast-2': '2406:da1c',
};
const AWS_AZ_PREFIX: Record<string, string> = {
  'us-east-1': 'use1',
  'us-west-2': 'usw2',
  'eu-west-1': 'euw1',
  'eu-central-1': 'euc1',
  'ap-southeast-2': 'apse2',
};

// [account index, region, kind, private /16, endpoints]
const AWS_LAYOUT: Array<[number, string, StreamKind, string, number]> = [
  [0, 'us-east-1', 'aws-v2', '10.0', 40],
  [0, 'eu-west-1', 'aws-v5', '10.1', 32],
  [1, 'us-east-1', 'aws-v2', '10.0', 40],
  [1, 'ap-southeast-2', 'aws-v2', '172.31', 28],
  [2, 'eu-west-1', 'aws-v5', '10.1', 30],
  [2, 'us-west-2', 'aws-v2', '192.168', 24],
  [3, 'eu-central-1', 'aws-v5', '172.31', 30],
  [3, 'us-east-1', 'aws-v2', '10.0', 36],
];
// [subscription index, region, kind, resource group, NSG or VNet name, private /24, NICs]
const AZURE_LAYOUT: Array<[number, string, StreamKind, string, string, string, number]> = [
  [0, 'eastus', 'azure-nsg', 'RG-WEB', 'WEB-NSG', '10.0.1', 10],
  [1, 'westeurope', 'azure-vnet', 'rg-app', 'app-vnet', '10.1.0', 10],
  [1, 'uksouth', 'azure-nsg', 'RG-EDGE', 'EDGE-NSG', '10.2.0', 8],
];
// [project index, region, zone, private /24, VMs]
const GCP_LAYOUT: Array<[number, string, string, string, number]> = [
  [0, 'us-central1', 'us-central1-a', '10.128.0', 12],
  [0, 'europe-west1', 'europe-west1-b', '10.132.0', 8],
  [1, 'asia-east1', 'asia-east1-a', '10.140.0', 10],
];
const GCP_PROJECTS = ['acme-web', 'acme-data'];

/** Share of benign records per cloud (renormalised over the clouds generated). */
const CLOUD_SHARE: Record<CloudName, number> = { aws: 0.7, azure: 0.12, gcp: 0.18 };

function guid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function ipv6Groups(rng: Rng, n: number): string {
  // non-zero groups without leading zeros: the text is already in RFC 5952 form
  const g: string[] = [];
  for (let i = 0; i < n; i++) g.push(rng.int(1, 0xffff).toString(16));
  return g.join(':');
}

export function buildPlan(seed: number, clouds: CloudName[]): Plan {
  const rng = new Rng(streamSeed(seed, 'plan'));
  const streams: Stream[] = [];
  const endpoints: Endpoint[] = [];
  const regionMap: Record<string, string> = {};

  const newStream = (s: Omit<Stream, 'index' | 'endpoints' | 'servers' | 'benignRecords' | 'weight'>): Stream => {
    const st: Stream = { ...s, index: streams.length, endpoints: [], servers: [], weight: 0, benignRecords: 0 };
    streams.push(st);
    return st;
  };
  const addEndpoint = (st: Stream, ip: string, e: Partial<Endpoint>): Endpoint => {
    const role = ROLE_CYCLE[(st.endpoints.length + st.index * 3) % ROLE_CYCLE.length]!;
    const ep: Endpoint = {
      id: endpoints.length,
      cloud: st.cloud,
      account: st.account,
      region: st.region,
      stream: st,
      ip,
      ip6: null,
      role,
      tcp: OPEN_TCP[role],
      udp: OPEN_UDP[role],
      iface: '',
      instance: '',
      subnet: '',
      zone: '',
      ...e,
    };
    st.endpoints.push(ep);
    if (ep.tcp.length + ep.udp.length > 0) st.servers.push(ep);
    endpoints.push(ep);
    return ep;
  };
  // the host part of the i-th endpoint of a /16: the same in every account using that /16
  const host16 = (base: string, i: number) => `${base}.${1 + (i % 3)}.${10 + 7 * Math.floor(i / 3)}`;

  // identifiers are drawn for every cloud even when it is not generated, so that the
  // AWS estate is the same whichever clouds are asked for
  const awsAccounts = [0, 1, 2, 3].map(() => String(rng.int(1, 9)) + String(rng.int(0, 99999999999)).padStart(11, '0'));
  const subscriptions = [0, 1].map(() => guid(rng));
  const gcpProjects = GCP_PROJECTS.map((p) => `${p}-${rng.int(100000, 999999)}`);

  if (clouds.includes('aws')) {
    for (const [acct, region, kind, base, n] of AWS_LAYOUT) {
      const st = newStream({ cloud: 'aws', kind, account: awsAccounts[acct]!, region, flowLogId: `fl-${rng.hex(17)}`, vpcId: `vpc-${rng.hex(17)}` });
      const subnets = [0, 1, 2].map(() => `subnet-${rng.hex(17)}`);
      for (let i = 0; i < n; i++) {
        addEndpoint(st, host16(base, i), {
          ip6: kind === 'aws-v5' ? `${AWS_V6_PREFIX[region]}:${ipv6Groups(rng, 6)}` : null,
          iface: `eni-${rng.hex(17)}`,
          instance: `i-${rng.hex(17)}`,
          subnet: subnets[i % 3]!,
          zone: `${AWS_AZ_PREFIX[region]}-az${1 + (i % 3)}`,
        });
      }
    }
  }
  const streamRng = new Rng(streamSeed(seed, 'plan', 'azure'));
  if (clouds.includes('azure')) {
    for (const [sub, region, kind, rg, name, base, n] of AZURE_LAYOUT) {
      const subscription = subscriptions[sub]!;
      const SUB = subscription.toUpperCase();
      const st =
        kind === 'azure-nsg'
          ? newStream({
              cloud: 'azure', kind, account: subscription, region, resourceGroup: rg,
              resourceId: `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/${rg.toUpperCase()}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/${name.toUpperCase()}`,
              systemId: guid(streamRng),
            })
          : newStream({
              cloud: 'azure', kind, account: subscription, region, resourceGroup: rg,
              resourceId: `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_${region.toUpperCase()}/FLOWLOGS/${name.toUpperCase()}-FLOWLOG`,
              targetResourceId: `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${name}`,
              systemId: guid(streamRng),
              aclId: guid(streamRng),
            });
      regionMap[st.targetResourceId ?? st.resourceId!] = region;
      for (let i = 0; i < n; i++) {
        addEndpoint(st, `${base}.${4 + i}`, {
          iface: `000D3A${streamRng.hex(6).toUpperCase()}`,
          instance: `${name.toLowerCase().replace(/-(nsg|vnet)$/, '')}-vm-${String(i + 1).padStart(2, '0')}`,
        });
      }
    }
    // a subscription whose flow logs all lie in one region can be mapped as a whole
    for (const sub of new Set(streams.filter((s) => s.cloud === 'azure').map((s) => s.account))) {
      const regions = new Set(streams.filter((s) => s.account === sub).map((s) => s.region));
      if (regions.size === 1) regionMap[sub] = [...regions][0]!;
    }
  }
  if (clouds.includes('gcp')) {
    const gcpRng = new Rng(streamSeed(seed, 'plan', 'gcp'));
    for (const [proj, region, zone, base, n] of GCP_LAYOUT) {
      const project = gcpProjects[proj]!;
      const st = newStream({ cloud: 'gcp', kind: 'gcp', account: project, region, project, vpcName: 'default', subnetId: String(gcpRng.int(1e8, 9e8)) + String(gcpRng.int(1e9, 9e9)) });
      for (let i = 0; i < n; i++) {
        const ep = addEndpoint(st, `${base}.${2 + i}`, { instance: `${project.split('-')[1]}-${region.split('-')[0]}-${String(i + 1).padStart(2, '0')}`, subnet: 'default', zone });
        renderGcpBlocks(ep);
      }
    }
  }

  // benign volume: each cloud's share, spread over its streams by endpoint count
  const present = clouds.filter((c) => streams.some((s) => s.cloud === c));
  const shareSum = present.reduce((s, c) => s + CLOUD_SHARE[c], 0);
  for (const c of present) {
    const cs = streams.filter((s) => s.cloud === c);
    const n = cs.reduce((s, st) => s + st.endpoints.length, 0);
    for (const st of cs) st.weight = (CLOUD_SHARE[c] / shareSum) * (st.endpoints.length / n);
  }

  return { clouds, streams, endpoints, services: buildServices(seed), regionMap };
}

/** The JSON blocks of a GCP VM's records (dest_instance, src_instance, vpc, resource), rendered once. */
export function renderGcpBlocks(ep: Endpoint): void {
  const st = ep.stream;
  const inst = `{"project_id":"${st.project}","region":"${st.region}","vm_name":"${ep.instance}","zone":"${ep.zone}"}`;
  const vpc = `{"project_id":"${st.project}","subnetwork_name":"default","subnetwork_region":"${st.region}","vpc_name":"default"}`;
  ep.gcpDest = `"dest_instance":${inst},`;
  ep.gcpSrc = `"src_instance":${inst},`;
  ep.gcpResource = `{"labels":{"location":"${ep.zone}","project_id":"${st.project}","subnetwork_id":"${st.subnetId}","subnetwork_name":"default"},"type":"gce_subnetwork"}`;
  ep.gcpDestVpc = `"dest_vpc":${vpc},`;
  ep.gcpSrcVpc = `"src_vpc":${vpc},`;
}

/**
 * The interface and instance ids a flow log gives for an endpoint's records, as detect
 * reports them (formats.md): AWS interface-id, and instance-id only in the v5 layout
 * ('-' for a NAT gateway is none); Azure the NIC's MAC and the name of the NSG, or of
 * the VNet flow log's target; GCP no interface, the VM name.
 */
export function reportedIds(ep: Endpoint): { iface: string; instance: string } {
  const st = ep.stream;
  switch (st.kind) {
    case 'aws-v2':
      return { iface: ep.iface, instance: '' };
    case 'aws-v5':
      return { iface: ep.iface, instance: ep.instance === '-' ? '' : ep.instance };
    case 'azure-nsg':
    case 'azure-vnet': {
      const id = st.targetResourceId ?? st.resourceId!;
      return { iface: ep.iface, instance: id.slice(id.lastIndexOf('/') + 1) };
    }
    case 'gcp':
      return { iface: '', instance: ep.instance };
  }
}

/** Internet services our hosts call: cloud APIs, CDNs, code hosting, DNS and NTP. */
function buildServices(seed: number): Plan['services'] {
  const rng = new Rng(streamSeed(seed, 'services'));
  const out: Plan['services'] = [];
  const prefixes = ['52.216', '54.239', '13.107', '151.101', '140.82', '20.60', '142.250', '35.190'];
  for (let i = 0; i < 48; i++) {
    const p = prefixes[i % prefixes.length]!;
    out.push({ ip: `${p}.${rng.int(0, 255)}.${rng.int(1, 254)}`, port: i % 6 === 5 ? 80 : 443, proto: 6 });
  }
  out.push({ ip: '8.8.8.8', port: 53, proto: 17 }, { ip: '1.1.1.1', port: 53, proto: 17 });
  out.push({ ip: '162.159.200.1', port: 123, proto: 17 }, { ip: '129.6.15.28', port: 123, proto: 17 });
  return out;
}
