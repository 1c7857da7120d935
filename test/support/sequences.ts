/** The request/response-code sequence of a complete DC session as `secc sim ev` summarises it. */

export const DIN_DC_SEQUENCE = [
  'supportedAppProtocolReq:OK_SuccessfulNegotiation',
  'SessionSetupReq:OK_NewSessionEstablished',
  'ServiceDiscoveryReq:OK',
  'ServicePaymentSelectionReq:OK',
  'ContractAuthenticationReq:OK',
  'ChargeParameterDiscoveryReq:OK',
  'CableCheckReq:OK',
  'PreChargeReq:OK',
  'PowerDeliveryReq:OK',
  'CurrentDemandReq:OK',
  'WeldingDetectionReq:OK',
  'SessionStopReq:OK',
];

export const ISO2_DC_SEQUENCE = [
  'supportedAppProtocolReq:OK_SuccessfulNegotiation',
  'SessionSetupReq:OK_NewSessionEstablished',
  'ServiceDiscoveryReq:OK',
  'PaymentServiceSelectionReq:OK',
  'AuthorizationReq:OK',
  'ChargeParameterDiscoveryReq:OK',
  'CableCheckReq:OK',
  'PreChargeReq:OK',
  'PowerDeliveryReq:OK',
  'CurrentDemandReq:OK',
  'WeldingDetectionReq:OK',
  'SessionStopReq:OK',
];

/** Steps without their repeat count (`CurrentDemandReq:OK×12` → `CurrentDemandReq:OK`). */
export const withoutRepeats = (sequence: readonly string[]): string[] => sequence.map((s) => s.replace(/×\d+$/, ''));
