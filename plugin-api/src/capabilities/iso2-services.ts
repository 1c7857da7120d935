/**
 * Capability contract between the ISO 15118-2 SECC and a value-added services provider (the `vas`
 * plugin, or a charger maker's own): services beyond charging (contract certificate, internet
 * access, use-case information, custom services). The provider lists the offered services, answers
 * ServiceDetail with their parameter sets and validates what the EV selects; the SECC owns the charge
 * service (ServiceID 1) itself. Installed with `V2gService.setServiceProvider`.
 *
 * The shape is the plugin-facing one (camel-case keys, as on MQTT); the kernel turns it into the
 * iso2 JSON documents of CONTRACTS.md.
 */

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

