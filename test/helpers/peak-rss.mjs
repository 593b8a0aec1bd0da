// Preloaded (node --import) into a flowsieve process: at exit, writes the process's peak
// resident set (VmHWM of /proc/self/status, in bytes: every thread counted) to the file
// named by FLOWSIEVE_PEAK_RSS_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.FLOWSIEVE_PEAK_RSS_FILE;
if (out) {
  process.on('exit', () => {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    writeFileSync(out, String(m ? Number(m[1]) * 1024 : -1));
  });
}
