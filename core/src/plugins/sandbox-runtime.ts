/**
 * Source run inside each sandbox isolate before the plugin's module. It rebuilds, from the few
 * host callbacks the sandbox installs, the same PluginContext an in-process plugin receives:
 * bus, logger, config, timers. Nothing else of Node reaches the isolate.
 */
export const SANDBOX_RUNTIME_SOURCE = String.raw`
(() => {
  const host = {};
  for (const name of ['publish', 'subscribe', 'unsubscribe', 'get', 'snapshot', 'log', 'timer', 'clearTimer']) {
    host[name] = globalThis['__host_' + name];
    delete globalThis['__host_' + name];
  }
  const subscriptions = new Map();
  const timers = new Map();
  const configHandlers = [];
  let nextId = 1;
  let handle;

  const addTimer = (repeat) => (fn, ms, ...args) => {
    const id = nextId++;
    timers.set(id, { fn: () => fn(...args), repeat });
    host.timer(id, Math.max(0, Number(ms) || 0), repeat);
    return id;
  };
  const clearTimer = (id) => { if (timers.delete(id)) host.clearTimer(id); };
  globalThis.setTimeout = addTimer(false);
  globalThis.setInterval = addTimer(true);
  globalThis.clearTimeout = clearTimer;
  globalThis.clearInterval = clearTimer;

  const format = (args) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  const logFn = (level) => (first, message) => {
    if (typeof first === 'string') host.log(level, first, '{}');
    else host.log(level, message === undefined ? '' : String(message), JSON.stringify(first ?? {}));
  };
  const makeLogger = () => ({
    trace: logFn('trace'), debug: logFn('debug'), info: logFn('info'),
    warn: logFn('warn'), error: logFn('error'), fatal: logFn('fatal'),
    child: () => makeLogger(),
  });
  const log = makeLogger();
  globalThis.console = {
    log: (...a) => host.log('info', format(a), '{}'),
    info: (...a) => host.log('info', format(a), '{}'),
    warn: (...a) => host.log('warn', format(a), '{}'),
    error: (...a) => host.log('error', format(a), '{}'),
    debug: (...a) => host.log('debug', format(a), '{}'),
  };

  const bus = {
    publish(topic, value, options) {
      host.publish(String(topic), JSON.stringify(value === undefined ? null : value), options && options.retain !== undefined ? String(options.retain) : '');
    },
    subscribe(pattern, handler, options) {
      const id = nextId++;
      subscriptions.set(id, handler);
      host.subscribe(id, String(pattern), Boolean(options && options.replay));
      return () => { if (subscriptions.delete(id)) host.unsubscribe(id); };
    },
    get(topic) {
      const json = host.get(String(topic));
      return json === undefined ? undefined : JSON.parse(json);
    },
    snapshot(pattern) {
      return JSON.parse(host.snapshot(String(pattern === undefined ? '#' : pattern)));
    },
  };

  const signalListeners = [];
  const signal = {
    aborted: false,
    addEventListener: (type, fn) => { if (type === 'abort') signalListeners.push(fn); },
    removeEventListener: () => {},
  };

  globalThis.__opensecc = {
    async start(plugin, manifestJson, configJson) {
      const context = {
        manifest: JSON.parse(manifestJson),
        config: JSON.parse(configJson),
        bus, log, signal,
        dataDir: '',
        onConfigChange: (fn) => { configHandlers.push(fn); },
        use: (capability) => { throw new Error('sandboxed plugins cannot use in-process capability ' + capability + '; talk through the bus'); },
      };
      handle = await plugin.start(context);
      return configHandlers.length;
    },
    deliver(id, topic, valueJson, originJson, at) {
      const handler = subscriptions.get(id);
      if (handler) handler({ topic, value: JSON.parse(valueJson), origin: JSON.parse(originJson), at });
    },
    fire(id) {
      const timer = timers.get(id);
      if (!timer) return;
      if (!timer.repeat) timers.delete(id);
      timer.fn();
    },
    async config(configJson) {
      const config = JSON.parse(configJson);
      for (const handler of configHandlers) await handler(config);
    },
    async stop() {
      signal.aborted = true;
      for (const fn of signalListeners) fn();
      if (handle && typeof handle.stop === 'function') await handle.stop();
    },
  };
})();
`;

/** The `@opensecc/plugin-api` module as a sandboxed plugin imports it. */
export const SANDBOX_PLUGIN_API_SOURCE = String.raw`
export function definePlugin(definition) {
  if (!definition || typeof definition !== 'object') throw new TypeError('definePlugin() takes an object { manifest, start }');
  if (!definition.manifest || typeof definition.manifest.name !== 'string') throw new TypeError('definePlugin(): manifest.name is required');
  if (typeof definition.start !== 'function') throw new TypeError('definePlugin(): plugin has no start function');
  return definition;
}
export function defineTopic(definition) { return definition; }
export class BusValidationError extends Error {}
export class BusAccessError extends Error {}
`;
