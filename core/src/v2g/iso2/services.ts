/**
 * Value-added services of ISO 15118-2 (services beyond charging: contract certificate, internet
 * access, use-case information, custom services), as the SECC sees them: a provider that lists the
 * offered services, answers ServiceDetail with their parameter sets and validates what the EV
 * selects. The SECC owns the charge service (ServiceID 1) itself; everything else comes from the
 * provider that the value-added services plugin installs (`V2gService.setServiceProvider`).
 * Without one, the SECC offers only the charge service.
 *
 * The types here are the plugin-facing shape (camel-case keys, as on MQTT); the functions at the
 * end turn them into the iso2 JSON documents of CONTRACTS.md.
 */
import type { ExiPhysicalValue } from '../physical.js';

export const ISO2_SERVICE_CATEGORIES = ['EVCharging', 'Internet', 'ContractCertificate', 'OtherCustom'] as const;
export type Iso2ServiceCategory = (typeof ISO2_SERVICE_CATEGORIES)[number];

/** Units of ISO 15118-2's unitSymbolType. */
export const ISO2_UNIT_SYMBOLS = ['h', 'm', 's', 'A', 'V', 'W', 'Wh'] as const;

/** One parameter of a parameter set: its Name and exactly one typed value (ISO 15118-2 ParameterType). */
export type ServiceParameter = { readonly name: string } & (
  | { readonly boolValue: boolean }
  | { readonly byteValue: number }
  | { readonly shortValue: number }
  | { readonly intValue: number }
  | { readonly physicalValue: { readonly value: number; readonly multiplier: number; readonly unit: (typeof ISO2_UNIT_SYMBOLS)[number] } }
  | { readonly stringValue: string }
);

export interface ServiceParameterSet {
  /** ParameterSetID (xs:short). */
  readonly id: number;
  readonly parameters: readonly ServiceParameter[];
}

/** A value-added service as offered in ServiceDiscoveryRes and detailed in ServiceDetailRes. */
export interface OfferedService {
  /** ServiceID (xs:unsignedShort, not 1: that is the charge service). */
  readonly id: number;
  readonly name?: string;
  readonly category: Iso2ServiceCategory;
  readonly scope?: string;
  /** FreeService: true when the service costs nothing extra. */
  readonly free: boolean;
  readonly parameterSets: readonly ServiceParameterSet[];
}

/** One entry of the EV's SelectedServiceList. */
export interface SelectedService {
  readonly serviceId: number;
  readonly parameterSetId?: number;
}

export interface ServiceSessionContext {
  readonly sessionId: string;
}

export type ServiceSelectionResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What the SECC asks about value-added services. Calls are synchronous: they run on the V2G path. */
export interface Iso2ServiceProvider {
  /** ServiceDiscovery: the offered services, filtered by the EV's ServiceScope and ServiceCategory when it sent them. */
  list(filter: { readonly scope?: string; readonly category?: Iso2ServiceCategory }, session: ServiceSessionContext): readonly OfferedService[];
  /** ServiceDetail: the service, or undefined when it is not offered (FAILED_ServiceIDInvalid). */
  detail(serviceId: number, session: ServiceSessionContext): OfferedService | undefined;
  /**
   * PaymentServiceSelection, after the SECC's own checks passed: the selected value-added services
   * (the charge service left out). Not ok: FAILED_ServiceSelectionInvalid with the reason.
   */
  select(selected: readonly SelectedService[], session: ServiceSessionContext): ServiceSelectionResult;
}

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
