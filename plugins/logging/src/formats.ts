/**
 * Line formats of the trace files, chosen so that the usual tools read them:
 * - MQTT: `mosquitto_sub -F "%U %t %p"` (Charge Control M guide 6.2): Unix time with nanoseconds,
 *   topic, payload;
 * - CAN: candump's log format (`candump -l`): `(seconds.micros) iface ID#DATA`;
 * - V2G and SLAC: one JSON record per line (NDJSON).
 */

/** The names of the files in the logging directory (core/src/trace/files.ts keeps the same). */
export const LOG_FILES = {
  log: 'opensecc.log',
  v2g: 'v2g.ndjson',
  slac: 'slac.ndjson',
  mqtt: 'mqtt.log',
  can: 'can.log',
} as const;

/** `%U`: seconds since the epoch with nine decimals. */
export function unixNanos(atMs: number): string {
  const micros = Math.round(atMs * 1000);
  const seconds = Math.floor(micros / 1e6);
  const fraction = micros - seconds * 1e6;
  return `${seconds}.${String(fraction).padStart(6, '0')}000`;
}

/**
 * The payload as the MQTT API sends it: strings raw, other scalars as JSON text, objects and
 * arrays as JSON, null as empty. Line breaks are escaped so one message stays one line.
 */
export function mqttPayload(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

export function mqttLine(atMs: number, topic: string, value: unknown): string {
  return `${unixNanos(atMs)} ${topic} ${mqttPayload(value)}\n`;
}

/** `(1436509053.650713) can0 7DF#0201050000000000`; extended ids have 8 digits; CAN FD uses `##0`. */
export function candumpLine(atMs: number, iface: string, id: number, dataHex: string): string {
  const micros = Math.round(atMs * 1000);
  const seconds = Math.floor(micros / 1e6);
  const stamp = `${seconds}.${String(micros - seconds * 1e6).padStart(6, '0')}`;
  const extended = id > 0x7ff;
  const idText = id.toString(16).toUpperCase().padStart(extended ? 8 : 3, '0');
  const data = dataHex.toUpperCase();
  const separator = data.length > 16 ? '##0' : '#';
  return `(${stamp}) ${iface} ${idText}${separator}${data}\n`;
}
