/** All the writers of a run: one per flow log (AWS, Azure) or per project (GCP), fed connection by connection. */
import type { Plan } from '../plan.js';
import type { FlowOut, GenFlow, Observer } from '../record.js';
import { Rng, streamSeed } from '../prng.js';
import { AwsWriter, type WriterContext } from './aws.js';
import { AzureWriter } from './azure.js';
import { GcpWriter } from './gcp.js';
import type { OutputStats } from './output.js';

type AnyWriter = AwsWriter | AzureWriter | GcpWriter;

export class WriterSet implements FlowOut {
  private readonly byStream: AnyWriter[] = [];
  private readonly all: AnyWriter[] = [];
  readonly stats: OutputStats = { files: 0, bytesOut: 0 };

  constructor(plan: Plan, out: string, seed: number, gzipLevel: number, observer: Observer, zeek = false) {
    const gcpByProject = new Map<string, GcpWriter>();
    for (const s of plan.streams) {
      // each writer draws its own ids and timestamps' fractions: independent of the others
      const ctx: WriterContext = { out, gzipLevel, observer, stats: this.stats, rng: new Rng(streamSeed(seed, 'writer', s.cloud, s.account, s.region)), zeek };
      let w: AnyWriter;
      if (s.cloud === 'aws') w = new AwsWriter(s, ctx);
      else if (s.cloud === 'azure') w = new AzureWriter(s, ctx);
      else {
        let g = gcpByProject.get(s.account);
        if (!g) {
          gcpByProject.set(s.account, (g = new GcpWriter(s.account, ctx)));
          this.all.push(g);
        }
        this.byStream.push(g);
        continue;
      }
      this.byStream.push(w);
      this.all.push(w);
    }
  }

  flow(f: GenFlow): void {
    this.byStream[f.ep.stream.index]!.flow(f);
  }

  beginHour(hourStart: number): void {
    for (const w of this.all) w.beginHour(hourStart);
  }

  endMinute(minute: number): void {
    for (const w of this.all) if (!(w instanceof AwsWriter)) w.endMinute(minute);
  }

  needsDrain(): boolean {
    return this.all.some((w) => w.needsDrain());
  }

  async drain(): Promise<void> {
    for (const w of this.all) await w.drain();
  }

  async endHour(): Promise<void> {
    await Promise.all(this.all.map((w) => w.endHour()));
  }

  /** Records written per cloud. */
  records(): Record<string, number> {
    const out: Record<string, number> = { aws: 0, azure: 0, gcp: 0 };
    for (const w of this.all) out[w instanceof AwsWriter ? 'aws' : w instanceof AzureWriter ? 'azure' : 'gcp']! += w.records;
    return out;
  }
}
