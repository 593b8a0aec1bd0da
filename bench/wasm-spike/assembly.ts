// A measurement, not part of flowsieve: AWS VPC flow log v2 plain lines parsed into columns
// in WebAssembly (AssemblyScript), to size what a WebAssembly parse core would buy
// (bench/RESULTS.md, session 4, "a WebAssembly parse, measured"). run-js.mjs is the same
// algorithm in JavaScript. Build and run (npx fetches the compiler; it is not a dependency):
//   npx -y -p assemblyscript@0.28.20 asc bench/wasm-spike/assembly.ts -O3 --noAssert --runtime stub -o /tmp/parse.wasm
//   node bench/wasm-spike/run-wasm.mjs /tmp/parse.wasm a10m.log
//   node bench/wasm-spike/run-js.mjs a10m.log
// Input bytes at inPtr..inPtr+inLen (whole lines). Columns of maxRows each from out.
// Returns rows written; a row whose line is not plain v2 gets ok = 0 (for a JS fallback).

@inline function num(p: usize, end: usize): u64 {
  // digits up to a space; result: value << 8 | digits-count (0 = not a number); position in gPos
  let v: u64 = 0;
  let q = p;
  while (q < end) {
    const d = <u32>load<u8>(q) - 48;
    if (d > 9) break;
    v = v * 10 + d;
    q++;
  }
  gPos = q;
  return q > p && q < end && load<u8>(q) == 32 ? (v << 8) | <u64>(q - p) : 0;
}

let gPos: usize = 0;

@inline function ipv4(p: usize, end: usize): i64 {
  let a: u32 = 0;
  let q = p;
  for (let k = 0; k < 4; k++) {
    let v: u32 = 0;
    const s = q;
    while (q < end) {
      const d = <u32>load<u8>(q) - 48;
      if (d > 9) break;
      v = v * 10 + d;
      q++;
    }
    if (q == s || q - s > 3 || v > 255) return -1;
    a = (a << 8) | v;
    if (k < 3) {
      if (q >= end || load<u8>(q) != 46) return -1;
      q++;
    }
  }
  if (q >= end || load<u8>(q) != 32) return -1;
  gPos = q;
  return <i64>a;
}

export function parse(inPtr: usize, inLen: usize, out: usize, maxRows: i32): i32 {
  const end = inPtr + inLen;
  const m = <usize>maxRows;
  const cSrc = out;
  const cDst = cSrc + (m << 2);
  const cSp = cDst + (m << 2);
  const cDp = cSp + (m << 2);
  const cPr = cDp + (m << 2);
  const cSt = cPr + (m << 2);
  const cEn = cSt + (m << 2);
  const cAct = cEn + (m << 2);
  const cOk = cAct + (m << 2);
  const cIf = cOk + (m << 2); // interface token start offset (relative to inPtr)
  const cLs = cIf + (m << 2); // line start offset
  const cPk = cLs + (m << 2);
  const cBy = cPk + (m << 3);
  const cAcc = cBy + (m << 3);
  let p = inPtr;
  let row = 0;
  while (p < end && row < maxRows) {
    const r = <usize>row << 2;
    const r8 = <usize>row << 3;
    store<u32>(cLs + r, <u32>(p - inPtr));
    let ok = true;
    let x = num(p, end); // version
    if (x == 0 || (x >> 8) != 2) ok = false;
    let q = gPos + 1;
    if (ok) {
      x = num(q, end); // account
      if (x == 0) ok = false;
      else store<f64>(cAcc + r8, <f64>(x >> 8));
      q = gPos + 1;
    }
    if (ok) {
      store<u32>(cIf + r, <u32>(q - inPtr)); // interface token
      while (q < end && load<u8>(q) > 32) q++;
      if (q >= end || load<u8>(q) != 32) ok = false;
      q++;
    }
    if (ok) {
      const a = ipv4(q, end);
      if (a < 0) ok = false;
      else store<u32>(cSrc + r, <u32>a);
      q = gPos + 1;
    }
    if (ok) {
      const a = ipv4(q, end);
      if (a < 0) ok = false;
      else store<u32>(cDst + r, <u32>a);
      q = gPos + 1;
    }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<u32>(cSp + r, <u32>(x >> 8)); q = gPos + 1; }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<u32>(cDp + r, <u32>(x >> 8)); q = gPos + 1; }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<u32>(cPr + r, <u32>(x >> 8)); q = gPos + 1; }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<f64>(cPk + r8, <f64>(x >> 8)); q = gPos + 1; }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<f64>(cBy + r8, <f64>(x >> 8)); q = gPos + 1; }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<u32>(cSt + r, <u32>(x >> 8)); q = gPos + 1; }
    if (ok) { x = num(q, end); if (x == 0) ok = false; else store<u32>(cEn + r, <u32>(x >> 8)); q = gPos + 1; }
    if (ok) {
      // ACCEPT or REJECT, then OK
      const c = load<u8>(q);
      if (c == 65 && load<u32>(q) == 0x45434341 && load<u16>(q + 4) == 0x5450 && load<u8>(q + 6) == 32) { store<u32>(cAct + r, 1); q += 7; }
      else if (c == 82 && load<u32>(q) == 0x454a4552 && load<u16>(q + 4) == 0x5443 && load<u8>(q + 6) == 32) { store<u32>(cAct + r, 2); q += 7; }
      else ok = false;
    }
    if (ok) {
      if (q + 2 <= end && load<u16>(q) == 0x4b4f && (q + 2 == end || load<u8>(q + 2) == 10)) q += 3;
      else ok = false;
    }
    if (!ok) {
      // skip to the next line
      while (q < end && load<u8>(q) != 10) q++;
      if (p < end) { let z = p; while (z < end && load<u8>(z) != 10) z++; q = z + 1; }
    }
    store<u32>(cOk + r, ok ? 1 : 0);
    p = q;
    row++;
  }
  gPos = p;
  return row;
}

export function consumed(): usize {
  return gPos;
}
