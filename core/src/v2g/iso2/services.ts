/**
 * Value-added services of ISO 15118-2 (services beyond charging: contract certificate, internet
 * access, use-case information, custom services), as the SECC sees them: a provider that lists the
 * offered services, answers ServiceDetail with their parameter sets and validates what the EV
 * selects. The SECC owns the charge service (ServiceID 1) itself; everything else comes from the
 * provider that the value-added services plugin installs (`V2gService.setServiceProvider`).
 * Without one, the SECC offers only the charge service.
 *
 * The provider contract and its types (the plugin-facing shape: camel-case keys, as on MQTT) live
 * in the plugin API, where provider plugins import them from; the functions here turn them into
 * the iso2 JSON documents of CONTRACTS.md.
 */
import { ISO2_SERVICE_CATEGORIES, type Iso2ServiceCategory, type OfferedService, type SelectedService, type ServiceParameter } from '@opensecc/plugin-api';
import type { ExiPhysicalValue } from '../physical.js';

export {
  ISO2_SERVICE_CATEGORIES,
  ISO2_UNIT_SYMBOLS,
  type Iso2ServiceCategory,
  type Iso2ServiceProvider,
  type OfferedService,
  type SelectedService,
  type ServiceParameter,
  type ServiceParameterSet,
  type ServiceSelectionResult,
  type ServiceSessionContext,
} from '@opensecc/plugin-api';

/** ServiceDiscoveryRes ServiceList element (at most 8 services: ServiceListType), or undefined for none. */
export function serviceListElement(services: readonly OfferedService[]): Record<string, unknown> | undefined {
  if (services.length === 0) return undefined;
  return {
    Service: services.slice(0, 8).map((s) => ({
      ServiceID: s.id,
      ...(s.name !== undefined ? { ServiceName: s.name } : {}),
      ServiceCategory: s.category,
      ...(s.scope !== undefined ? { ServiceScope: s.scope } : {}),
      FreeService: s.free,
    })),
  };
}

/** ServiceDetailRes content for a service: ServiceID and, when it has any, the ServiceParameterList. */
export function serviceDetailContent(service: OfferedService): Record<string, unknown> {
  if (service.parameterSets.length === 0) return { ServiceID: service.id };
  return {
    ServiceID: service.id,
    ServiceParameterList: {
      ParameterSet: service.parameterSets.map((set) => ({ ParameterSetID: set.id, Parameter: set.parameters.map(parameterElement) })),
    },
  };
}

function parameterElement(p: ServiceParameter): Record<string, unknown> {
  if ('physicalValue' in p) {
    const v = p.physicalValue;
    const exi: ExiPhysicalValue = { Multiplier: v.multiplier, Unit: v.unit, Value: v.value };
    return { Name: p.name, physicalValue: exi };
  }
  const { name, ...value } = p;
  return { Name: name, ...value };
}

/** The SelectedServiceList of a PaymentServiceSelectionReq body (empty when absent). */
export function selectedServicesOf(body: Record<string, unknown>): SelectedService[] {
  const list = (body.SelectedServiceList as { SelectedService?: Array<{ ServiceID?: unknown; ParameterSetID?: unknown }> } | undefined)?.SelectedService ?? [];
  return list.map((s) => ({ serviceId: Number(s.ServiceID), ...(typeof s.ParameterSetID === 'number' ? { parameterSetId: s.ParameterSetID } : {}) }));
}

/** A ServiceCategory from a request, if it is one (anything else counts as no filter). */
export function serviceCategoryOf(value: unknown): Iso2ServiceCategory | undefined {
  return (ISO2_SERVICE_CATEGORIES as readonly unknown[]).includes(value) ? (value as Iso2ServiceCategory) : undefined;
}
