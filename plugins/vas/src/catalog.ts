/**
 * The services on offer, merged from their sources, and the SECC's provider over them.
 *
 * Sources, in order of precedence: the operator's list (ci/hlc/evse/value_added_services while
 * set, else plugins.vas.config.services), services registered in-process through the plugin API,
 * then lists published by plugins on vas/services/<plugin>. A ServiceID already taken by an earlier
 * source is left out and reported. A change of any source takes effect at the next ServiceDiscovery.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Bus, Iso2ServiceProvider, Logger, OfferedService, SelectedService, ServiceSelectionResult, ServiceSessionContext } from '@opensecc/plugin-api';
import { isReservedId, serviceListSchema, ServiceDefinitionError, toOffered, toOfferedList, type ServiceDefinition } from './definitions.js';
import { VAS_TOPICS } from './topics.js';

export interface SourcedService extends OfferedService {
  readonly source: string;
}

const validateList = new Ajv2020({ allErrors: false, strict: false }).compile(serviceListSchema);

/** Schema check for lists that do not come through the topic registry (plugin API, bus registrations). */
export function checkList(value: unknown, source: string): ServiceDefinition[] {
  if (!validateList(value)) {
    const e = validateList.errors?.[0];
    throw new ServiceDefinitionError(source, `${e?.instancePath ? `payload${e.instancePath}` : 'payload'} ${e?.message ?? 'is invalid'}`);
  }
  return value as ServiceDefinition[];
}

export class ServiceCatalog implements Iso2ServiceProvider {
  private operator: { source: 'config' | 'mqtt'; services: OfferedService[] } = { source: 'config', services: [] };
  private configServices: OfferedService[] = [];
  private readonly registered = new Map<symbol, { owner: string; service: OfferedService }>();
  private readonly published = new Map<string, OfferedService[]>();
  private effective: SourcedService[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  get services(): readonly SourcedService[] {
    return this.effective;
  }

  /** The config's list (start and live change). Throws ServiceDefinitionError and keeps the old list when it breaks a rule. */
  setConfig(definitions: readonly ServiceDefinition[]): void {
    this.configServices = toOfferedList(definitions, 'config plugins.vas.config.services');
    if (this.operator.source === 'config') this.operator = { source: 'config', services: this.configServices };
    this.recompute();
  }

  /** The operator's list from MQTT (null: back to the config). Rejected lists are reported and change nothing. */
  setOverride(definitions: readonly ServiceDefinition[] | null): void {
    if (definitions === null) {
      this.operator = { source: 'config', services: this.configServices };
      this.recompute();
      return;
    }
    const services = this.attempt(VAS_TOPICS.services, () => toOfferedList(definitions, VAS_TOPICS.services));
    if (!services) return;
    this.operator = { source: 'mqtt', services };
    this.recompute();
  }

  /** A service registered in-process by a plugin; throws when it is invalid or its ServiceID is taken. */
  register(owner: string, definition: ServiceDefinition): () => void {
    const source = `plugin:${owner}`;
    const [checked] = checkList([definition], source);
    const service = toOffered(checked!, source);
    const holder = this.effective.find((s) => s.id === service.id);
    if (holder) throw new ServiceDefinitionError(source, `ServiceID ${service.id} is offered already (by ${holder.source})`);
    const token = Symbol(owner);
    this.registered.set(token, { owner, service });
    this.recompute();
    return () => {
      if (this.registered.delete(token)) this.recompute();
    };
  }

  /** A plugin's list on vas/services/<plugin> (null or [] withdraws it). */
  setPublished(plugin: string, value: unknown): void {
    const source = `bus:${plugin}`;
    if (value === null || (Array.isArray(value) && value.length === 0)) {
      if (this.published.delete(plugin)) this.recompute();
      return;
    }
    const services = this.attempt(source, () => toOfferedList(checkList(value, source), source));
    if (!services) return;
    this.published.set(plugin, services);
    this.recompute();
  }

  /** Forget what a plugin that is no longer running published. */
  dropPublished(plugin: string): void {
    if (this.published.delete(plugin)) {
      this.log.info({ plugin }, 'services of a stopped plugin withdrawn');
      this.recompute();
    }
  }

  publishedBy(): string[] {
    return [...this.published.keys()];
  }

  // --- Iso2ServiceProvider (called on the V2G path: synchronous and cheap) ---

  list(filter: { scope?: string; category?: string }, session: ServiceSessionContext): readonly OfferedService[] {
    this.publishSelection(session.sessionId, []);
    return this.effective.filter((s) => (filter.category === undefined || s.category === filter.category) && (filter.scope === undefined || s.scope === filter.scope));
  }

  detail(serviceId: number): OfferedService | undefined {
    return this.effective.find((s) => s.id === serviceId);
  }

  select(selected: readonly SelectedService[], session: ServiceSessionContext): ServiceSelectionResult {
    const chosen: Array<Record<string, unknown>> = [];
    const seen = new Set<number>();
    for (const pick of selected) {
      const service = this.effective.find((s) => s.id === pick.serviceId);
      if (!service) return { ok: false, reason: `service ${pick.serviceId} not offered` };
      if (seen.has(pick.serviceId)) return { ok: false, reason: `service ${pick.serviceId} selected twice` };
      seen.add(pick.serviceId);
      let parameters;
      if (service.parameterSets.length > 0) {
        if (pick.parameterSetId === undefined) return { ok: false, reason: `service ${pick.serviceId} selected without a ParameterSetID (it has ${service.parameterSets.map((p) => p.id).join(', ')})` };
        const set = service.parameterSets.find((p) => p.id === pick.parameterSetId);
        if (!set) return { ok: false, reason: `service ${pick.serviceId} has no parameter set ${pick.parameterSetId}` };
        parameters = set.parameters;
      } else if (pick.parameterSetId !== undefined) {
        return { ok: false, reason: `service ${pick.serviceId} has no parameter sets, ParameterSetID ${pick.parameterSetId} selected` };
      }
      chosen.push({
        id: service.id,
        ...(service.name !== undefined ? { name: service.name } : {}),
        category: service.category,
        ...(pick.parameterSetId !== undefined ? { parameterSetId: pick.parameterSetId } : {}),
        ...(parameters ? { parameters } : {}),
        source: service.source,
      });
    }
    this.publishSelection(session.sessionId, chosen);
    if (chosen.length > 0) this.log.info({ sessionId: session.sessionId, services: chosen.map((c) => `${String(c.id)}${c.parameterSetId !== undefined ? `:${String(c.parameterSetId)}` : ''}`) }, 'EV selected value-added services');
    return { ok: true };
  }

  // --- internals ---

  private publishSelection(sessionId: string, services: Array<Record<string, unknown>>): void {
    try {
      this.bus.publish(VAS_TOPICS.selected, { sessionId, services });
    } catch (error) {
      this.log.error({ err: error }, `cannot publish ${VAS_TOPICS.selected}`);
    }
  }

  private attempt<T>(source: string, run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      this.report(source, error instanceof ServiceDefinitionError ? error.reason : (error as Error).message);
      return undefined;
    }
  }

  report(source: string, reason: string): void {
    this.log.warn({ source, reason }, 'value-added service definition rejected; the previous services stay offered');
    try {
      this.bus.publish(VAS_TOPICS.error, { source, reason }, { retain: false });
    } catch (error) {
      this.log.error({ err: error }, `cannot publish ${VAS_TOPICS.error}`);
    }
  }

  private recompute(): void {
    const next: SourcedService[] = [];
    const add = (service: OfferedService, source: string) => {
      const holder = next.find((s) => s.id === service.id);
      if (holder) {
        this.report(source, `ServiceID ${service.id} is offered already by ${holder.source}: left out`);
        return;
      }
      if (isReservedId(service.id)) this.log.warn({ source, id: service.id }, 'ServiceIDs 5-60000 are reserved by ISO/IEC; custom services should use 60001-65535');
      next.push({ ...service, source });
    };
    for (const service of this.operator.services) add(service, this.operator.source);
    for (const { owner, service } of this.registered.values()) add(service, `plugin:${owner}`);
    for (const plugin of [...this.published.keys()].sort()) for (const service of this.published.get(plugin)!) add(service, `bus:${plugin}`);
    // ServiceDiscoveryRes lists at most 8 services (ServiceListType): the rest is not offered at all.
    for (const service of next.splice(8)) this.report(service.source, `ServiceID ${service.id} left out: the ServiceList holds at most 8 services`);
    this.effective = next;
    try {
      this.bus.publish(VAS_TOPICS.offered, next);
    } catch (error) {
      this.log.error({ err: error }, `cannot publish ${VAS_TOPICS.offered}`);
    }
  }
}
