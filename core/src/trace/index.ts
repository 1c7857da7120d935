/** The kernel-side trace API: topics and helpers for the subsystems, exports and reports for the CLI. */
export { TRACE_TOPIC, traceTopics, type TraceKind, type TraceSwitches, type V2gTraceRecord, type SlacTraceRecord, type CanTraceRecord } from './topics.js';
export { traceV2g, traceSlac, traceCan, traceNow, isTraceOn, type V2gTraceInput, type SlacTraceInput, type CanTraceInput } from './publish.js';
export { LOG_FILES, DEFAULT_LOG_DIR, logDirOf, logDirOfConfig, readV2gTrace, selectSession, sessionsOf, rotatedFiles, TraceSelectionError } from './files.js';
export { v2gRecordsToPcapng, V2G_PORT } from './v2g-pcapng.js';
export { PcapngWriter, LINKTYPE_ETHERNET } from './pcapng.js';
export { renderSessionReport, seriesOf, summarize, stopReasonOf, type StateChange, type ReportOptions } from './report.js';
export { writeSessionReport } from './report-file.js';
export { SessionRecorder } from './session-recorder.js';
export { writeSupportBundle } from './support-bundle.js';
