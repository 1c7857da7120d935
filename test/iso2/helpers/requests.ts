/** Request bodies of an ISO 15118-2 session, as a well-behaved EV sends them. */
import type { Iso2Harness } from './harness.js';

export const V = (v: number) => ({ Multiplier: 0, Unit: 'V', Value: v });
export const A = (v: number) => ({ Multiplier: 0, Unit: 'A', Value: v });
export const W = (v: number, m = 0) => ({ Multiplier: m, Unit: 'W', Value: v });
export const Wh = (v: number, m = 0) => ({ Multiplier: m, Unit: 'Wh', Value: v });
export const dcStatus = (soc = 50) => ({ EVReady: true, EVErrorCode: 'NO_ERROR', EVRESSSOC: soc });

export const dcChargeParameters = {
  RequestedEnergyTransferMode: 'DC_extended',
  DC_EVChargeParameter: { DepartureTime: 3600, DC_EVStatus: dcStatus(), EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(400), EVEnergyRequest: Wh(20, 3) },
};
export const acChargeParameters = {
  RequestedEnergyTransferMode: 'AC_three_phase_core',
  AC_EVChargeParameter: { DepartureTime: 7200, EAmount: Wh(30, 3), EVMaxVoltage: V(400), EVMaxCurrent: A(16), EVMinCurrent: A(6) },
};
export const selectCharge = { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } };

/** SessionSetup … Authorization. */
export async function toAuthorized(s: Iso2Harness, sid?: string) {
  const setup = await s.send('SessionSetupReq', { EVCCID: '0465650064c3' }, sid);
  await s.send('ServiceDiscoveryReq', { ServiceCategory: 'EVCharging' });
  await s.send('PaymentServiceSelectionReq', selectCharge);
  const auth = await s.send('AuthorizationReq');
  return { setup, auth };
}

/** … up to PreCharge (DC). */
export async function toPreCharge(s: Iso2Harness) {
  await toAuthorized(s);
  const cpd = await s.send('ChargeParameterDiscoveryReq', dcChargeParameters);
  await s.send('CableCheckReq', { DC_EVStatus: dcStatus() });
  const pre = await s.send('PreChargeReq', { DC_EVStatus: dcStatus(), EVTargetVoltage: V(380), EVTargetCurrent: A(2) });
  return { cpd, pre };
}

export const dcStart = (tuple = 1, extra: Record<string, unknown> = {}) => ({
  ChargeProgress: 'Start',
  SAScheduleTupleID: tuple,
  DC_EVPowerDeliveryParameter: { DC_EVStatus: dcStatus(), ChargingComplete: false },
  ...extra,
});
export const dcStop = { ChargeProgress: 'Stop', SAScheduleTupleID: 1, DC_EVPowerDeliveryParameter: { DC_EVStatus: dcStatus(), ChargingComplete: true } };
export const currentDemand = (soc = 51) => ({ DC_EVStatus: dcStatus(soc), EVTargetCurrent: A(50), EVTargetVoltage: V(400), ChargingComplete: false });

/** AC up to charging (PowerDelivery Start done). */
export async function toAcCharging(s: Iso2Harness, powerDelivery: Record<string, unknown> = { ChargeProgress: 'Start', SAScheduleTupleID: 1 }) {
  await toAuthorized(s);
  const cpd = await s.send('ChargeParameterDiscoveryReq', acChargeParameters);
  const start = await s.send('PowerDeliveryReq', powerDelivery);
  return { cpd, start };
}
