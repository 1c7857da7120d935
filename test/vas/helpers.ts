/**
 * In-process harness: the vas plugin started on a bus that validates against the real topic
 * registry (HLC, ISO 15118-2 and the plugin's topics) and fenced by its manifest, a stand-in for the
 * kernel's V2G service that only records the installed provider, and ISO 15118-2 SECC sessions
 * using that provider, every message through the real iso2 codec both ways.
 */
import { decode, encode } from '@opensecc/exi-codec';
import { fencedBus } from '@opensecc/core/plugins/fenced-bus';
import { HLC_TOPICS, HlcReporter, type EvseDataSource } from '@opensecc/core/v2g/index';
import { BusIso2EvseData, ISO2_TOPICS, Iso2SeccSession, type Iso2ServiceProvider } from '@opensecc/core/v2g/iso2/index';
import type { BusMessage, PluginContext } from '@opensecc/plugin-api';
import vasPlugin, { type VasApi, type VasConfig } from '@opensecc/plugin-vas';
import { validatingBus } from '#support/bus.js';
import { READY_EVSE } from '#support/evse.js';
import { recordingLogger } from '#support/log.js';

const evse: EvseDataSource = { read: () => READY_EVSE };

/** The vas plugin running on a registry-validated bus; `session()` opens an ISO 15118-2 SECC session with its provider. */
export async function startVas(config: Partial<VasConfig> = {}) {
  const { kernelBus, registry } = validatingBus({ v2g: HLC_TOPICS, 'v2g-iso2': ISO2_TOPICS, vas: vasPlugin.manifest.topics ?? [] });
  const log = recordingLogger();
  const bus = fencedBus(kernelBus, vasPlugin.manifest, (error) => {
    throw error;
  });
  let provider: Iso2ServiceProvider | undefined;
  const configHandlers: Array<(c: VasConfig) => void | Promise<void>> = [];
  const ctx: PluginContext<VasConfig> = {
    manifest: vasPlugin.manifest,
    config: { services: [], ...config },
    bus,
    log,
    signal: new AbortController().signal,
    dataDir: '',
    onConfigChange: (handler) => void configHandlers.push(handler),
    use: <T>(capability: string) => {
      if (capability !== 'v2g') throw new Error(`no capability ${capability}`);
      return {
        setServiceProvider: (p: Iso2ServiceProvider) => {
          provider = p;
          return () => (provider = undefined);
        },
      } as T;
    },
  };
  const handle = (await vasPlugin.start(ctx))!;
  const api = handle.api as VasApi;
  const events: BusMessage[] = [];
  kernelBus.subscribe('ci/#', (m) => events.push(m));

  const session = () => {
    const report = new HlcReporter(kernelBus.view({ kind: 'kernel', name: 'v2g' }), log);
    const secc = new Iso2SeccSession({ evse, iso2Evse: new BusIso2EvseData(kernelBus.view({ kind: 'kernel', name: 'v2g' })), report, log, ...(provider ? { services: provider } : {}) });
    const send = async (name: string, body: Record<string, unknown> = {}) => {
      const request = decode('iso2', encode('iso2', { V2G_Message: { Header: { SessionID: secc.sessionId || '0000000000000000' }, Body: { [name]: body } } }));
      const outcome = await secc.handle(request);
      const back = outcome.response ? (decode('iso2', encode('iso2', outcome.response)) as { V2G_Message: { Body: Record<string, Record<string, unknown>> } }) : undefined;
      return { code: outcome.responseCode, close: outcome.close, body: back ? Object.values(back.V2G_Message.Body)[0]! : undefined };
    };
    return { secc, send };
  };
  return {
    kernelBus,
    registry,
    log,
    api,
    events,
    provider: () => provider,
    session,
    changeConfig: async (next: VasConfig) => {
      for (const handler of configHandlers) await handler(next);
    },
    /** What an MQTT client's write does once the MQTT API decoded it: a publish validated by the registry. */
    publishExternal: (topic: string, value: unknown) => kernelBus.publish(topic, value, { kind: 'external', name: 'mqtt-api' }),
    stop: () => handle.stop?.(),
  };
}

export const selectCharge = (extra: Array<Record<string, unknown>> = []) => ({
  SelectedPaymentOption: 'ExternalPayment',
  SelectedServiceList: { SelectedService: [{ ServiceID: 1 }, ...extra] },
});
