/**
 * GCP VPC flow-log lines shared by the GCP reader tests (formats-gcp-fast, gcp-wasm).
 */

/** A LogEntry as a Cloud Storage sink writes it (the generator's shape). */
export const ENTRY =
  '{"insertId":"18baa0dea43c5","jsonPayload":{"bytes_sent":"40","connection":{"dest_ip":"10.140.0.8","dest_port":443,"protocol":6,"src_ip":"46.45.50.63","src_port":9620},' +
  '"dest_instance":{"project_id":"acme-data-829946","region":"asia-east1","vm_name":"data-asia-07","zone":"asia-east1-a"},' +
  '"dest_vpc":{"project_id":"acme-data-829946","subnetwork_name":"default","subnetwork_region":"asia-east1","vpc_name":"default"},' +
  '"end_time":"2024-03-01T16:00:34.944633793Z","packets_sent":"1","reporter":"DEST","src_location":{"asn":3215,"continent":"Europe","country":"fra"},' +
  '"start_time":"2024-03-01T16:00:34.260917328Z"},"logName":"projects/acme-data-829946/logs/compute.googleapis.com%2Fvpc_flows","receiveTimestamp":"2024-03-01T16:01:45.695010594Z",' +
  '"resource":{"labels":{"location":"asia-east1-a","project_id":"acme-data-829946","subnetwork_id":"8278446332181169986","subnetwork_name":"default"},"type":"gce_subnetwork"},' +
  '"timestamp":"2024-03-01T16:01:45.695010594Z"}';

/** The SRC copy of a flow between two VMs (a duplicate), and a gateway-reported one. */
export const SRC_COPY =
  '{"jsonPayload":{"connection":{"dest_ip":"10.0.0.9","dest_port":22,"protocol":6,"src_ip":"10.0.0.8","src_port":5555},"reporter":"SRC",' +
  '"src_instance":{"project_id":"p1","region":"us-east1","vm_name":"a","zone":"us-east1-b"},"dest_instance":{"project_id":"p1","vm_name":"b","zone":"us-east1-c"},' +
  '"start_time":"2024-03-01T16:00:00Z","end_time":"2024-03-01T16:00:01Z","bytes_sent":"100","packets_sent":"2"}}';
export const GATEWAY =
  '{"jsonPayload":{"connection":{"dest_ip":"10.0.0.9","dest_port":443,"protocol":17,"src_ip":"203.0.113.5","src_port":53},"reporter":"DEST_GATEWAY",' +
  '"dest_gateway":{"project_id":"p2","location":"europe-west1","name":"vpn-1","type":"VPN_TUNNEL"},"dest_vpc":{"project_id":"p3","subnetwork_region":"europe-west4"},' +
  '"start_time":"2024-03-01T16:00:00+01:00"}}';
