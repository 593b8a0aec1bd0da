import { readFileSync } from 'node:fs';
import { FlowSink } from './dist/src/flow/sink.js';
import { awsText } from './dist/src/formats/aws.js';
const buf = readFileSync('/tmp/perf/a2m.log');
const last = buf.lastIndexOf(10);
for (const mode of ['noemit', 'full', 'noemit', 'full', 'noemit', 'full']) {
  const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 10 }, () => {});
  if (mode === 'noemit') sink.emit = () => true;
  const p = awsText.open({ sink, file: 'x', account: '', region: '' });
  const t = performance.now();
  p.parseLines(buf, 0, last + 1, 1, 0);
  console.log(mode, ((performance.now() - t) * 1e6 / 2e6).toFixed(0), 'ns/rec');
}
