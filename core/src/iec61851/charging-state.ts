/** The IEC 61851 session state the controller publishes on `ci/charging/state`. */
export const CHARGING_STATES = ['idle', 'connected', 'ready', 'starting', 'charging', 'stopping', 'fault'] as const;
export type ChargingState = (typeof CHARGING_STATES)[number];
