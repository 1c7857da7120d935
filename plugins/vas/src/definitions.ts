/**
 * Service definitions as operators and plugins write them (config, MQTT, bus, plugin API), their
 * JSON Schema, the services ISO 15118-2 defines, and the step that turns a definition into the
 * offered service the SECC sees (defaults filled in, cross-field rules checked).
 *
 * ServiceIDs after ISO 15118-2:2014 (ServiceID table of 8.6.3.6): 1 charging (the SECC's own),
 * 2 contract certificate, 3 internet access, 4 use-case information, 5–60000 reserved by ISO/IEC,
 * 60001–65535 implementation specific (custom services belong there).
 */
import type { Iso2ServiceCategory, JSONSchema, OfferedService, ServiceParameter, ServiceParameterSet } from '@opensecc/plugin-api';

export interface ServiceDefinition {
  readonly id: number;
  readonly name?: string;
  readonly category?: Iso2ServiceCategory;
  readonly scope?: string;
  readonly free?: boolean;
  readonly parameterSets?: readonly ServiceParameterSet[];
}

export const CERTIFICATE_SERVICE_ID = 2;
export const INTERNET_SERVICE_ID = 3;
export const USE_CASE_INFORMATION_SERVICE_ID = 4;
/** First ServiceID for implementation-specific (custom) services; 5 up to here are reserved by ISO/IEC. */
export const FIRST_CUSTOM_SERVICE_ID = 60001;

const string = (name: string, value: string): ServiceParameter => ({ name, stringValue: value });
const int = (name: string, value: number): ServiceParameter => ({ name, intValue: value });

/** The standard's parameter sets of the certificate service: Service = Installation (1) or Update (2). */
export const CERTIFICATE_PARAMETER_SETS: readonly ServiceParameterSet[] = [
  { id: 1, parameters: [string('Service', 'Installation')] },
  { id: 2, parameters: [string('Service', 'Update')] },
];

/** The standard's parameter sets of internet access: Protocol and Port. */
export const INTERNET_PARAMETER_SETS: readonly ServiceParameterSet[] = [
  { id: 1, parameters: [string('Protocol', 'ftp'), int('Port', 20)] },
  { id: 2, parameters: [string('Protocol', 'ftp'), int('Port', 21)] },
  { id: 3, parameters: [string('Protocol', 'http'), int('Port', 80)] },
  { id: 4, parameters: [string('Protocol', 'https'), int('Port', 443)] },
];

/** What a definition of a standard ServiceID gets when it leaves the field out. */
const STANDARD: Readonly<Record<number, { name: string; category: Iso2ServiceCategory; parameterSets: readonly ServiceParameterSet[] }>> = {
  [CERTIFICATE_SERVICE_ID]: { name: 'Certificate', category: 'ContractCertificate', parameterSets: CERTIFICATE_PARAMETER_SETS },
  [INTERNET_SERVICE_ID]: { name: 'InternetAccess', category: 'Internet', parameterSets: INTERNET_PARAMETER_SETS },
  [USE_CASE_INFORMATION_SERVICE_ID]: { name: 'UseCaseInformation', category: 'OtherCustom', parameterSets: [] },
};

const short = { type: 'integer', minimum: -32768, maximum: 32767 };

const parameterSchema: JSONSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  minProperties: 2,
  maxProperties: 2,
  description: 'ISO 15118-2 Parameter: its Name and exactly one value',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    boolValue: { type: 'boolean' },
    byteValue: { type: 'integer', minimum: -128, maximum: 127 },
    shortValue: short,
    intValue: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
    physicalValue: {
      type: 'object',
      required: ['value', 'multiplier', 'unit'],
      additionalProperties: false,
      properties: { value: short, multiplier: { type: 'integer', minimum: -3, maximum: 3 }, unit: { enum: ['h', 'm', 's', 'A', 'V', 'W', 'Wh'] } },
    },
    stringValue: { type: 'string', maxLength: 256 },
  },
};

/** JSON Schema of one service definition. */
export const serviceDefinitionSchema: JSONSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer', minimum: 2, maximum: 65535, description: 'ServiceID (1 is the charge service). 2 certificate, 3 internet access, 4 use-case information; custom services: 60001-65535' },
    name: { type: 'string', minLength: 1, maxLength: 32, description: 'ServiceName (default for 2/3/4: Certificate, InternetAccess, UseCaseInformation)' },
    category: { enum: ['EVCharging', 'Internet', 'ContractCertificate', 'OtherCustom'], description: 'ServiceCategory (default: by ServiceID, else OtherCustom)' },
    scope: { type: 'string', maxLength: 64, description: 'ServiceScope' },
    free: { type: 'boolean', description: 'FreeService (default false)' },
    parameterSets: {
      type: 'array',
      maxItems: 255,
      description: 'the ServiceParameterList of ServiceDetailRes (default for 2 and 3: the standard parameter sets; else none)',
      items: {
        type: 'object',
        required: ['id', 'parameters'],
        additionalProperties: false,
        properties: { id: { ...short, description: 'ParameterSetID' }, parameters: { type: 'array', minItems: 1, maxItems: 16, items: parameterSchema } },
      },
    },
  },
};

/** A list of definitions (at most 8: the ServiceList of ServiceDiscoveryRes holds 8). */
export const serviceListSchema: JSONSchema = { type: 'array', maxItems: 8, items: serviceDefinitionSchema };

export class ServiceDefinitionError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'ServiceDefinitionError';
  }
}

/** The offered service for a (schema-valid) definition; throws ServiceDefinitionError for rules a schema cannot say. */
export function toOffered(definition: ServiceDefinition, source: string): OfferedService {
  const standard = STANDARD[definition.id];
  const parameterSets = definition.parameterSets ?? standard?.parameterSets ?? [];
  const setIds = parameterSets.map((s) => s.id);
  const twice = setIds.find((id, i) => setIds.indexOf(id) !== i);
  if (twice !== undefined) throw new ServiceDefinitionError(source, `service ${definition.id}: ParameterSetID ${twice} is used twice`);
  const name = definition.name ?? standard?.name;
  return {
    id: definition.id,
    ...(name !== undefined ? { name } : {}),
    category: definition.category ?? standard?.category ?? 'OtherCustom',
    ...(definition.scope !== undefined ? { scope: definition.scope } : {}),
    free: definition.free ?? false,
    parameterSets,
  };
}

/** All of a list, with ServiceIDs unique within it. */
export function toOfferedList(definitions: readonly ServiceDefinition[], source: string): OfferedService[] {
  const out = definitions.map((d) => toOffered(d, source));
  const ids = out.map((s) => s.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new ServiceDefinitionError(source, `ServiceID ${twice} is defined twice`);
  return out;
}

/** ServiceIDs 5–60000 are reserved by ISO/IEC: allowed, but an EV may read them as a future standard service. */
export function isReservedId(id: number): boolean {
  return id > USE_CASE_INFORMATION_SERVICE_ID && id < FIRST_CUSTOM_SERVICE_ID;
}
