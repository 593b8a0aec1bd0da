// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/scan-finalise.wasm): the
// inbound finalisation (shared/scan-finalise.ts) for a table kept in JavaScript arrays,
// copied into this module's memory (src/engine/scan-finalise-wasm.ts).
export * from './shared/scan-finalise';
