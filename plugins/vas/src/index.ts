/**
 * Value-added services (ISO 15118-2, Charge Control M section 9.10): the services the SECC offers
 * in ServiceDiscovery besides charging, their ServiceDetail parameter sets, and the services the
 * EV selects in PaymentServiceSelection, published on ci/hlc/ev/selected_services.
 *
 * Services come from the config (plugins.vas.config.services), live from MQTT
 * (ci/hlc/evse/value_added_services), from in-process plugins (`ctx.use('vas').registerService`)
 * and from any plugin, sandboxed ones included, that publishes a list on vas/services/<its name>.
 */
import { definePlugin, type BusMessage, type Iso2ServiceProvider, type PluginManifest } from '@opensecc/plugin-api';
import { ServiceCatalog, type SourcedService } from './catalog.js';
import { ServiceDefinitionError, serviceListSchema, type ServiceDefinition } from './definitions.js';
import { REGISTRATION_PATTERN, REGISTRATION_PREFIX, VAS_TOPIC_DEFINITIONS, VAS_TOPICS } from './topics.js';

export * from './definitions.js';
export { checkList, ServiceCatalog, type SourcedService } from './catalog.js';
export { REGISTRATION_PATTERN, REGISTRATION_PREFIX, VAS_TOPIC_DEFINITIONS, VAS_TOPICS } from './topics.js';

export interface VasConfig {
  readonly services: readonly ServiceDefinition[];
}

/** What `ctx.use('vas')` returns to in-process plugins. */
export interface VasApi {
  /**
   * Offer a service (from the next ServiceDiscovery on) until the returned function is called.
   * Throws ServiceDefinitionError when the definition is invalid or its ServiceID is offered already.
   */
  registerService(definition: ServiceDefinition, options?: { readonly owner?: string }): () => void;
  /** The services offered now, with their source. */
  services(): readonly SourcedService[];
}

/** The part of the kernel's V2G service (capability 'v2g') this plugin uses. */
interface V2gServiceProviderSlot {
  setServiceProvider(provider: Iso2ServiceProvider): () => void;
}

const PLUGIN_STATUS_TOPIC = 'ci/plugins/status';
/** Plugin states in which what a plugin published on vas/services/<name> no longer counts. */
const GONE = new Set(['stopped', 'stopping', 'failed', 'disabled', 'restarting']);

export const manifest: PluginManifest = {
  name: 'vas',
  version: '0.1.0',
  description: 'ISO 15118-2 value-added services: certificate service, internet access, use-case information and custom services in ServiceDiscovery/ServiceDetail, and the EV’s selection on MQTT',
  provides: ['vas'],
  requires: ['bus'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      services: {
        ...serviceListSchema,
        default: [],
        description: 'services offered besides charging (at most 8); ci/hlc/evse/value_added_services replaces this list while set',
      },
    },
  },
  bus: {
    read: [VAS_TOPICS.services, REGISTRATION_PATTERN, PLUGIN_STATUS_TOPIC],
    write: [VAS_TOPICS.offered, VAS_TOPICS.selected, VAS_TOPICS.error],
  },
  topics: VAS_TOPIC_DEFINITIONS,
};

export default definePlugin<VasConfig, VasApi>({
  manifest,
  start(ctx) {
    const catalog = new ServiceCatalog(ctx.bus, ctx.log);
    // An invalid config at start keeps the plugin from starting, with the reason in `secc plugin list`.
    catalog.setConfig(ctx.config.services ?? []);
    ctx.onConfigChange((config) => {
      try {
        catalog.setConfig(config.services ?? []);
      } catch (error) {
        if (!(error instanceof ServiceDefinitionError)) throw error;
        catalog.report(error.source, error.reason);
      }
    });

    // Which plugins run, to withdraw what stopped ones published (and ignore stale retained lists).
    let status: { at: number; states: Map<string, string> } | undefined;
    const registeredAt = new Map<string, number>();
    const stale = (plugin: string, at: number) => {
      if (!status || at > status.at) return false;
      const state = status.states.get(plugin);
      return state === undefined || GONE.has(state);
    };
    const unsubscribers = [
      ctx.bus.subscribe(PLUGIN_STATUS_TOPIC, (message: BusMessage) => {
        const list = Array.isArray(message.value) ? (message.value as Array<{ name?: unknown; state?: unknown }>) : [];
        status = { at: message.at, states: new Map(list.map((p) => [String(p.name), String(p.state)])) };
        for (const plugin of catalog.publishedBy()) if (stale(plugin, registeredAt.get(plugin) ?? 0)) catalog.dropPublished(plugin);
      }, { replay: true }),
      ctx.bus.subscribe(VAS_TOPICS.services, (message: BusMessage) => catalog.setOverride(message.value as ServiceDefinition[] | null), { replay: true }),
      ctx.bus.subscribe(REGISTRATION_PATTERN, (message: BusMessage) => {
        const plugin = message.topic.slice(REGISTRATION_PREFIX.length);
        if (message.origin.kind !== 'plugin' || message.origin.name !== plugin) {
          catalog.report(message.topic, `only plugin '${plugin}' may publish here (this came from ${message.origin.kind} '${message.origin.name}')`);
          return;
        }
        if (stale(plugin, message.at)) return;
        registeredAt.set(plugin, message.at);
        catalog.setPublished(plugin, message.value);
      }, { replay: true }),
    ];

    let uninstall: (() => void) | undefined;
    try {
      uninstall = ctx.use<V2gServiceProviderSlot>('v2g').setServiceProvider(catalog);
    } catch (error) {
      ctx.log.info({ reason: (error as Error).message }, 'no ISO 15118-2 SECC to offer services to (V2G disabled?): services are kept but not offered');
    }
    ctx.log.info({ services: catalog.services.map((s) => `${s.id} (${s.source})`) }, 'value-added services ready');

    const api: VasApi = {
      registerService: (definition, options) => catalog.register(options?.owner ?? 'plugin', definition),
      services: () => catalog.services,
    };
    return {
      api,
      stop() {
        uninstall?.();
        for (const unsubscribe of unsubscribers) unsubscribe();
      },
    };
  },
});
