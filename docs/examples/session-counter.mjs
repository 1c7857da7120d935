// A complete OpenSECC plugin: counts charging sessions and publishes the count.
// Drop this file into the plugins directory (pluginHost.watchDir, default var/plugins) and the
// running daemon loads it — sandboxed in isolated-vm by default. Edit it and it reloads; delete
// it and it unloads. The same file also runs in-process (plugins.session-counter.sandbox: false).
import { definePlugin } from '@opensecc/plugin-api';

export default definePlugin({
  manifest: {
    name: 'session-counter', // must equal the file name (or folder name for <folder>/index.mjs)
    version: '1.0.0',
    description: 'Counts charging sessions (control pilot entering state C) and publishes the count.',
    provides: ['session-count'],
    requires: ['bus'],
    // plugins.session-counter.config in the operator's config, validated against this schema.
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        start: { type: 'integer', minimum: 0, default: 0, description: 'count to start from' },
        reportEverySeconds: { type: 'integer', minimum: 0, default: 0, description: '0: report only on change' },
      },
    },
    // The only bus topics this plugin may touch; anything else is refused.
    bus: { read: ['ci/cp/state'], write: ['ext/session-counter/#'] },
    // Topics it adds to the registry: validated on the bus, exposed on MQTT, listed in the docs.
    topics: [
      {
        topic: 'ext/session-counter/count',
        direction: 'subscribeable-only',
        type: 'Integer',
        retained: true,
        schema: { type: 'integer', minimum: 0 },
        description: 'Charging sessions since the plugin started.',
      },
    ],
    sandbox: { memoryMiB: 16, cpuTimeMs: 20 },
  },

  start(ctx) {
    let count = ctx.config.start;
    let previous = ctx.bus.get('ci/cp/state');
    const publish = () => ctx.bus.publish('ext/session-counter/count', count);
    publish();

    const unsubscribe = ctx.bus.subscribe('ci/cp/state', (message) => {
      if (message.value === 'C' && previous !== 'C' && previous !== 'D') {
        count += 1;
        ctx.log.info({ count }, 'charging session started');
        publish();
      }
      previous = message.value;
    });

    let timer;
    const schedule = (seconds) => {
      clearInterval(timer);
      if (seconds > 0) timer = setInterval(publish, seconds * 1000);
    };
    schedule(ctx.config.reportEverySeconds);
    ctx.onConfigChange((config) => schedule(config.reportEverySeconds));

    return {
      api: { count: () => count }, // what `ctx.use('session-count')` returns to in-process plugins
      stop() {
        clearInterval(timer);
        unsubscribe();
      },
    };
  },
});
