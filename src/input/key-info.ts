/**
 * Account and region from where a log file sits, for every cloud whose layout names them:
 *   AWS   AWSLogs/<account>/vpcflowlogs/<region>/... (and the Hive-compatible aws-account-id=, aws-region=)
 *   Security Lake  .../region=<region>/accountId=<account>/eventDay=YYYYMMDD/...
 *   Azure VNet flow logs  .../NETWORKWATCHERS/NETWORKWATCHER_<REGION>/FLOWLOGS/...  (region),
 *         and every Azure path  .../SUBSCRIPTIONS/<id>/...  (account)
 * Records that carry their own account or region keep theirs; --region-map still wins
 * for Azure resource ids (src/formats/azure.ts).
 */
import { awsPathInfo } from '../formats/aws.js';

export function keyInfo(key: string): { account?: string; region?: string } {
  const aws = awsPathInfo(key);
  if (aws.account || aws.region) return aws;
  const path = key.replace(/\\/g, '/');
  const lake = /\/region=([a-z0-9-]+)\/accountId=(\d{12})\//.exec(path); // Amazon Security Lake
  if (lake) return { region: lake[1], account: lake[2] };
  const out: { account?: string; region?: string } = {};
  const watcher = /\/NETWORKWATCHER_([A-Za-z0-9]+)\//i.exec(path);
  if (watcher) out.region = watcher[1]!.toLowerCase();
  const sub = /(?:^|[/=])SUBSCRIPTIONS\/([0-9a-f-]{36})\//i.exec(path);
  if (sub) out.account = sub[1]!.toLowerCase();
  return out;
}
