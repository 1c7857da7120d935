/** The trace helpers are part of the plugin API (plugin-api/src/trace.ts); the kernel uses the same ones. */
export { isTraceOn, traceCan, traceNow, traceSlac, traceV2g, type CanTraceInput, type SlacTraceInput, type V2gTraceInput } from '@opensecc/plugin-api';
