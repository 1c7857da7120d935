// A sandboxed plugin that adds a custom ISO 15118-2 value-added service ("StationInfo", ServiceID
// 60001) to what the SECC offers, and reacts when an EV selects it.
// Drop this file into the plugins directory (pluginHost.watchDir, default var/plugins): the running
// daemon loads it sandboxed; from the next ServiceDiscovery on the EV sees the service, asks its
// ServiceDetail (two parameter sets) and may select it. Delete the file and the service is gone.
// It talks only through the bus: a list of service definitions on vas/services/<plugin name>,
// which the built-in vas plugin validates and merges (see docs/value-added-services.md).
import { definePlugin } from '@opensecc/plugin-api';

const REGISTRATION = 'vas/services/vas-example'; // vas/services/<this plugin's name>
const SELECTED = 'ci/hlc/ev/selected_services';

export default definePlugin({
  manifest: {
    name: 'vas-example', // must equal the file name
    version: '1.0.0',
    description: 'Offers a custom value-added service (StationInfo) over ISO 15118-2 and reports its selection.',
    requires: ['bus'],
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        serviceId: { type: 'integer', minimum: 60001, maximum: 65535, default: 60001, description: 'custom ServiceIDs: 60001-65535' },
        free: { type: 'boolean', default: true },
      },
    },
    // Publishing the service needs only write access to its own registration topic.
    bus: { read: [SELECTED], write: [REGISTRATION, 'ext/vas-example/#'] },
    topics: [
      {
        topic: 'ext/vas-example/selected',
        direction: 'subscribeable-only',
        type: 'Object',
        retained: true,
        schema: { type: 'object', required: ['sessionId', 'parameterSetId'], properties: { sessionId: { type: 'string' }, parameterSetId: { type: 'integer' } } },
        description: 'The last session that selected StationInfo, and with which parameter set.',
      },
    ],
    sandbox: { memoryMiB: 16, cpuTimeMs: 20 },
  },

  start(ctx) {
    const offer = (config) =>
      ctx.bus.publish(REGISTRATION, [
        {
          id: config.serviceId,
          name: 'StationInfo',
          category: 'OtherCustom',
          free: config.free,
          parameterSets: [
            { id: 1, parameters: [{ name: 'Language', stringValue: 'en' }, { name: 'MaxPower', physicalValue: { value: 150, multiplier: 3, unit: 'W' } }] },
            { id: 2, parameters: [{ name: 'Language', stringValue: 'de' }, { name: 'MaxPower', physicalValue: { value: 150, multiplier: 3, unit: 'W' } }] },
          ],
        },
      ]);
    let config = ctx.config;
    // Listen for selections before offering the service (a sandboxed publish does not wait).
    const unsubscribe = ctx.bus.subscribe(SELECTED, (message) => {
      const mine = message.value.services.find((s) => s.id === config.serviceId);
      if (!mine) return;
      ctx.log.info({ sessionId: message.value.sessionId, parameterSetId: mine.parameterSetId }, 'EV selected StationInfo');
      ctx.bus.publish('ext/vas-example/selected', { sessionId: message.value.sessionId, parameterSetId: mine.parameterSetId });
    });
    offer(config);
    ctx.onConfigChange((next) => {
      config = next;
      offer(config);
    });

    return {
      stop() {
        unsubscribe();
        ctx.bus.publish(REGISTRATION, null); // withdraw the service
      },
    };
  },
});
