/**
 * Value-added services in-process: the vas plugin on a registry-validated bus, ISO 15118-2 SECC
 * sessions asking it, every V2G message through the real iso2 codec. Discovery filters, details,
 * FAILED_ServiceIDInvalid, selections valid and not, live updates over the publishable topic, a
 * plugin's bus registration, the plugin API, and invalid lists rejected with the old set kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusValidationError } from '@opensecc/plugin-api';
import { VAS_TOPICS, INTERNET_PARAMETER_SETS, ServiceDefinitionError } from '@opensecc/plugin-vas';
import { selectCharge, startVas } from './helpers.js';

const CUSTOM = {
  id: 60001,
  name: 'StationInfo',
  scope: 'station',
  free: true,
  parameterSets: [
    { id: 1, parameters: [{ name: 'Language', stringValue: 'en' }, { name: 'MaxPower', physicalValue: { value: 150, multiplier: 3, unit: 'W' } }] },
    { id: 2, parameters: [{ name: 'Enabled', boolValue: true }, { name: 'Level', byteValue: -3 }, { name: 'Slot', shortValue: 1200 }] },
  ],
} as const;
const CONFIG = { services: [{ id: 2 }, { id: 3, free: true }, CUSTOM] };

const ids = (body: Record<string, unknown> | undefined) => ((body?.ServiceList as { Service?: Array<{ ServiceID: number }> } | undefined)?.Service ?? []).map((s) => s.ServiceID);

test('without the vas plugin the SECC behaves as before: no ServiceList, other services unknown', async () => {
  const vas = await startVas(CONFIG);
  vas.stop();
  const { send } = vas.session();
  await send('SessionSetupReq', { EVCCID: '0465650064c3' });
  const discovery = await send('ServiceDiscoveryReq', {});
  assert.equal(discovery.code, 'OK');
  assert.equal(discovery.body!.ServiceList, undefined);
  assert.equal((discovery.body!.ChargeService as { ServiceID: number }).ServiceID, 1);
  assert.equal((await send('ServiceDetailReq', { ServiceID: 3 })).code, 'FAILED_ServiceIDInvalid');
});

test('ServiceDiscovery lists the configured services with the standard defaults; ServiceCategory and ServiceScope filter the ServiceList, ChargeService stays', async () => {
  const vas = await startVas(CONFIG);
  const all = await (async () => {
    const { send } = vas.session();
    await send('SessionSetupReq', { EVCCID: '0465650064c3' });
    return send('ServiceDiscoveryReq', {});
  })();
  assert.deepEqual(ids(all.body), [2, 3, 60001]);
  assert.deepEqual((all.body!.ServiceList as { Service: unknown[] }).Service, [
    { ServiceID: 2, ServiceName: 'Certificate', ServiceCategory: 'ContractCertificate', FreeService: false },
    { ServiceID: 3, ServiceName: 'InternetAccess', ServiceCategory: 'Internet', FreeService: true },
    { ServiceID: 60001, ServiceName: 'StationInfo', ServiceCategory: 'OtherCustom', ServiceScope: 'station', FreeService: true },
  ]);
  for (const [filter, expected] of [
    [{ ServiceCategory: 'Internet' }, [3]],
    [{ ServiceCategory: 'ContractCertificate' }, [2]],
    [{ ServiceCategory: 'EVCharging' }, []],
    [{ ServiceScope: 'station' }, [60001]],
    [{ ServiceScope: 'elsewhere' }, []],
    [{ ServiceScope: 'station', ServiceCategory: 'Internet' }, []],
  ] as const) {
    const { send } = vas.session();
    await send('SessionSetupReq', { EVCCID: '0465650064c3' });
    const res = await send('ServiceDiscoveryReq', filter);
    assert.equal(res.code, 'OK', JSON.stringify(filter));
    assert.deepEqual(ids(res.body), expected, JSON.stringify(filter));
    assert.equal((res.body!.ChargeService as { ServiceID: number }).ServiceID, 1, 'the charge service is always offered');
  }
});

test('ServiceDetail answers the parameter sets (internet: Protocol/Port as the standard lists them; custom: every value type); an unknown ServiceID is FAILED_ServiceIDInvalid', async () => {
  const vas = await startVas(CONFIG);
  const { send } = vas.session();
  await send('SessionSetupReq', { EVCCID: '0465650064c3' });
  await send('ServiceDiscoveryReq', {});
  const internet = await send('ServiceDetailReq', { ServiceID: 3 });
  assert.equal(internet.code, 'OK');
  assert.deepEqual(internet.body!.ServiceParameterList, {
    ParameterSet: [
      { ParameterSetID: 1, Parameter: [{ Name: 'Protocol', stringValue: 'ftp' }, { Name: 'Port', intValue: 20 }] },
      { ParameterSetID: 2, Parameter: [{ Name: 'Protocol', stringValue: 'ftp' }, { Name: 'Port', intValue: 21 }] },
      { ParameterSetID: 3, Parameter: [{ Name: 'Protocol', stringValue: 'http' }, { Name: 'Port', intValue: 80 }] },
      { ParameterSetID: 4, Parameter: [{ Name: 'Protocol', stringValue: 'https' }, { Name: 'Port', intValue: 443 }] },
    ],
  });
  const certificate = await send('ServiceDetailReq', { ServiceID: 2 });
  assert.deepEqual(certificate.body!.ServiceParameterList, {
    ParameterSet: [
      { ParameterSetID: 1, Parameter: [{ Name: 'Service', stringValue: 'Installation' }] },
      { ParameterSetID: 2, Parameter: [{ Name: 'Service', stringValue: 'Update' }] },
    ],
  });
  const custom = await send('ServiceDetailReq', { ServiceID: 60001 });
  assert.deepEqual(custom.body!.ServiceParameterList, {
    ParameterSet: [
      { ParameterSetID: 1, Parameter: [{ Name: 'Language', stringValue: 'en' }, { Name: 'MaxPower', physicalValue: { Multiplier: 3, Unit: 'W', Value: 150 } }] },
      { ParameterSetID: 2, Parameter: [{ Name: 'Enabled', boolValue: true }, { Name: 'Level', byteValue: -3 }, { Name: 'Slot', shortValue: 1200 }] },
    ],
  });
  const charge = await send('ServiceDetailReq', { ServiceID: 1 });
  assert.equal(charge.code, 'OK');
  assert.equal(charge.body!.ServiceParameterList, undefined);
  const unknown = await send('ServiceDetailReq', { ServiceID: 77 });
  assert.equal(unknown.code, 'FAILED_ServiceIDInvalid');
  assert.equal(unknown.close, true);
});

test('PaymentServiceSelection: selected services published per session on ci/hlc/ev/selected_services with the parameter set', async () => {
  const vas = await startVas(CONFIG);
  const { send, secc } = vas.session();
  await send('SessionSetupReq', { EVCCID: '0465650064c3' });
  await send('ServiceDiscoveryReq', {});
  assert.deepEqual(vas.kernelBus.get(VAS_TOPICS.selected), { sessionId: secc.sessionId, services: [] }, 'reset at discovery');
  const res = await send('PaymentServiceSelectionReq', selectCharge([{ ServiceID: 3, ParameterSetID: 4 }, { ServiceID: 60001, ParameterSetID: 1 }]));
  assert.equal(res.code, 'OK');
  assert.deepEqual(vas.kernelBus.get(VAS_TOPICS.selected), {
    sessionId: secc.sessionId,
    services: [
      { id: 3, name: 'InternetAccess', category: 'Internet', parameterSetId: 4, parameters: INTERNET_PARAMETER_SETS[3]!.parameters, source: 'config' },
      { id: 60001, name: 'StationInfo', category: 'OtherCustom', parameterSetId: 1, parameters: CUSTOM.parameterSets[0].parameters, source: 'config' },
    ],
  });
  assert.equal((await send('AuthorizationReq')).code, 'OK');
});

test('an invalid selection is FAILED_ServiceSelectionInvalid and publishes nothing', async () => {
  const vas = await startVas({ services: [{ id: 3 }, { id: 4 }] });
  for (const [extra, why] of [
    [[{ ServiceID: 9 }], 'not offered'],
    [[{ ServiceID: 3, ParameterSetID: 9 }], 'no parameter set 9'],
    [[{ ServiceID: 3 }], 'without a ParameterSetID'],
    [[{ ServiceID: 4, ParameterSetID: 1 }], 'has no parameter sets'],
    [[{ ServiceID: 3, ParameterSetID: 1 }, { ServiceID: 3, ParameterSetID: 2 }], 'selected twice'],
  ] as const) {
    const { send, secc } = vas.session();
    await send('SessionSetupReq', { EVCCID: '0465650064c3' });
    await send('ServiceDiscoveryReq', {});
    const res = await send('PaymentServiceSelectionReq', selectCharge([...extra]));
    assert.equal(res.code, 'FAILED_ServiceSelectionInvalid', why);
    assert.equal(res.close, true);
    assert.deepEqual(vas.kernelBus.get(VAS_TOPICS.selected), { sessionId: secc.sessionId, services: [] }, why);
    assert.ok(vas.log.lines.some((l) => l.message.includes('FAILED_ServiceSelectionInvalid') && String(l.fields.why).includes(why)), why);
  }
  // Without the charge service it is still FAILED_NoChargeServiceSelected.
  const { send } = vas.session();
  await send('SessionSetupReq', { EVCCID: '0465650064c3' });
  await send('ServiceDiscoveryReq', {});
  const res = await send('PaymentServiceSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 3, ParameterSetID: 1 }] } });
  assert.equal(res.code, 'FAILED_NoChargeServiceSelected');
});

test('the publishable topic replaces the config list live; null goes back to the config', async () => {
  const vas = await startVas(CONFIG);
  vas.publishExternal(VAS_TOPICS.services, [{ id: 3, parameterSets: [{ id: 7, parameters: [{ name: 'Protocol', stringValue: 'https' }, { name: 'Port', intValue: 8443 }] }] }]);
  assert.deepEqual(vas.api.services().map((s) => [s.id, s.source]), [[3, 'mqtt']]);
  const { send } = vas.session();
  await send('SessionSetupReq', { EVCCID: '0465650064c3' });
  assert.deepEqual(ids((await send('ServiceDiscoveryReq', {})).body), [3]);
  const detail = await send('ServiceDetailReq', { ServiceID: 3 });
  assert.deepEqual(detail.body!.ServiceParameterList, { ParameterSet: [{ ParameterSetID: 7, Parameter: [{ Name: 'Protocol', stringValue: 'https' }, { Name: 'Port', intValue: 8443 }] }] });
  assert.deepEqual((vas.kernelBus.get(VAS_TOPICS.offered) as Array<{ id: number }>).map((s) => s.id), [3]);
  vas.publishExternal(VAS_TOPICS.services, null);
  assert.deepEqual(vas.api.services().map((s) => [s.id, s.source]), [[2, 'config'], [3, 'config'], [60001, 'config']]);
  // A live config change applies too (while no MQTT list is set).
  await vas.changeConfig({ services: [{ id: 4 }] });
  assert.deepEqual(vas.api.services().map((s) => s.id), [4]);
});

test('invalid lists are rejected with a clear error and the old set kept: by the registry (schema) and by the plugin (ServiceID twice)', async () => {
  const vas = await startVas(CONFIG);
  const before = vas.api.services();
  for (const bad of [[{ id: 1 }], [{ id: 3, category: 'Parking' }], [{ id: 60002, parameterSets: [{ id: 1, parameters: [{ name: 'x', intValue: 1, stringValue: 'y' }] }] }], { id: 3 }, Array.from({ length: 9 }, (_, i) => ({ id: 60001 + i }))]) {
    assert.throws(() => vas.publishExternal(VAS_TOPICS.services, bad), (error: unknown) => error instanceof BusValidationError && error.topic === VAS_TOPICS.services && /payload/.test(error.reason), JSON.stringify(bad));
    assert.deepEqual(vas.api.services(), before);
  }
  const errors = vas.events.filter((m) => m.topic === VAS_TOPICS.error);
  vas.publishExternal(VAS_TOPICS.services, [{ id: 3 }, { id: 3, free: true }]);
  assert.deepEqual(vas.api.services(), before);
  assert.deepEqual(vas.events.filter((m) => m.topic === VAS_TOPICS.error).slice(errors.length).map((m) => m.value), [{ source: VAS_TOPICS.services, reason: 'ServiceID 3 is defined twice' }]);
  vas.publishExternal(VAS_TOPICS.services, [{ id: 60001, parameterSets: [{ id: 1, parameters: [{ name: 'a', intValue: 1 }] }, { id: 1, parameters: [{ name: 'b', intValue: 2 }] }] }]);
  assert.deepEqual(vas.api.services(), before);
  assert.match(JSON.stringify(vas.events.filter((m) => m.topic === VAS_TOPICS.error).at(-1)!.value), /service 60001: ParameterSetID 1 is used twice/);
  // A live config edit that breaks a rule is reported and changes nothing.
  await vas.changeConfig({ services: [{ id: 2 }, { id: 2 }] });
  assert.deepEqual(vas.api.services(), before);
});

test('an invalid config at start keeps the plugin from starting, naming the problem', async () => {
  await assert.rejects(startVas({ services: [{ id: 60001 }, { id: 60001 }] }), (error: unknown) => error instanceof ServiceDefinitionError && /ServiceID 60001 is defined twice/.test(error.message));
});

test('plugins add services: in-process through the API (unregister removes it) and over the bus on vas/services/<plugin> (validated, own topic only)', async () => {
  const vas = await startVas({ services: [{ id: 3 }] });
  const unregister = vas.api.registerService({ id: 60010, name: 'Wash', parameterSets: [{ id: 1, parameters: [{ name: 'Program', stringValue: 'quick' }] }] }, { owner: 'car-wash' });
  assert.throws(() => vas.api.registerService({ id: 3 }), /ServiceID 3 is offered already \(by config\)/);
  assert.throws(() => vas.api.registerService({ id: 0 } as never), ServiceDefinitionError);
  vas.kernelBus.publish('vas/services/station', [{ id: 60001, name: 'StationInfo', parameterSets: [{ id: 1, parameters: [{ name: 'Language', stringValue: 'en' }] }] }], { kind: 'plugin', name: 'station' });
  assert.deepEqual(vas.api.services().map((s) => [s.id, s.source]), [[3, 'config'], [60010, 'plugin:car-wash'], [60001, 'bus:station']]);

  const { send, secc } = vas.session();
  await send('SessionSetupReq', { EVCCID: '0465650064c3' });
  assert.deepEqual(ids((await send('ServiceDiscoveryReq', {})).body), [3, 60010, 60001]);
  assert.equal((await send('ServiceDetailReq', { ServiceID: 60001 })).code, 'OK');
  assert.equal((await send('PaymentServiceSelectionReq', selectCharge([{ ServiceID: 60001, ParameterSetID: 1 }, { ServiceID: 60010, ParameterSetID: 1 }]))).code, 'OK');
  assert.deepEqual((vas.kernelBus.get(VAS_TOPICS.selected) as { sessionId: string; services: Array<{ id: number; source: string }> }).services.map((s) => [s.id, s.source]), [[60001, 'bus:station'], [60010, 'plugin:car-wash']]);
  assert.equal((vas.kernelBus.get(VAS_TOPICS.selected) as { sessionId: string }).sessionId, secc.sessionId);

  // Invalid, or on another plugin's topic: rejected, the previous set stays.
  const before = vas.api.services();
  vas.kernelBus.publish('vas/services/station', [{ id: 60001, parameterSets: 'none' }], { kind: 'plugin', name: 'station' });
  vas.kernelBus.publish('vas/services/station', [{ id: 60020 }], { kind: 'plugin', name: 'intruder' });
  assert.deepEqual(vas.api.services(), before);
  const errors = vas.events.filter((m) => m.topic === VAS_TOPICS.error).map((m) => m.value as { source: string; reason: string });
  assert.deepEqual(errors.at(-2), { source: 'bus:station', reason: 'payload/0/parameterSets must be array' });
  assert.match(errors.at(-1)!.reason, /only plugin 'station' may publish here/);
  // A registration clashing with a configured ServiceID is left out and reported.
  vas.kernelBus.publish('vas/services/other', [{ id: 3 }], { kind: 'plugin', name: 'other' });
  assert.deepEqual(vas.api.services(), before);
  assert.match(JSON.stringify(vas.events.filter((m) => m.topic === VAS_TOPICS.error).at(-1)!.value), /ServiceID 3 is offered already by config/);

  // Withdrawn: null on the topic, the API's unregister, or the plugin stopped (ci/plugins/status).
  vas.kernelBus.publish('vas/services/station', null, { kind: 'plugin', name: 'station' });
  unregister();
  assert.deepEqual(vas.api.services().map((s) => s.id), [3]);
  vas.kernelBus.publish('vas/services/station', [{ id: 60001 }], { kind: 'plugin', name: 'station' });
  assert.deepEqual(vas.api.services().map((s) => s.id), [3, 60001]);
  vas.kernelBus.publish('ci/plugins/status', [{ name: 'station', source: 'sandboxed', state: 'failed', restarts: 3, version: '1.0.0' }], { kind: 'kernel', name: 'plugin-host' });
  assert.deepEqual(vas.api.services().map((s) => s.id), [3]);
});
