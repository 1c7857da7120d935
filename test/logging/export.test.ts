import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceCommand } from '@opensecc/core/cli/commands/trace';
import { UsageError } from '@opensecc/core/cli/command';
import { v2gRecordsToPcapng } from '@opensecc/core/trace/v2g-pcapng';
import type { V2gTraceRecord } from '@opensecc/core/trace/topics';
import { captureIO, FIXTURE, fixtureRecords, LUA_DISSECTOR, missingTool, tempDir } from './harness.js';
import { CAPTURE, fixtureLines } from './tools/make-fixture.js';

const noTshark = missingTool('tshark', 'apt-get install -y tshark; .ci/run installs it');

/** A trace directory with an earlier short session and then the real DIN session of the fixture. */
function traceDir(): { dir: string; real: V2gTraceRecord[]; earlier: V2gTraceRecord[] } {
  const dir = tempDir();
  const real = fixtureRecords();
  const earlier = real.slice(0, 6).map((r) => ({ ...r, session: 'EARLIER01', at: r.at - 3_600_000 }));
  writeFileSync(join(dir, 'v2g.ndjson.1'), earlier.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'v2g.ndjson'), real.map((r) => JSON.stringify(r)).join('\n') + '\n' + '{"cut by a cra');
  return { dir, real, earlier };
}

function tshark(args: string[]): string {
  const result = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, `tshark ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

test('trace export --format pcapng: tshark reads the last session with every V2GTP payload, checksums good', { skip: noTshark }, async () => {
  const { dir, real } = traceDir();
  const out = join(dir, 'session.pcapng');
  const io = captureIO();
  assert.equal(await traceCommand.run(['export', '--format', 'pcapng', '--out', out, '--dir', dir], io), 0, io.err.text);
  assert.match(io.out.text, /140 V2G messages of session 0102030405060708/);
  assert.match(io.err.text, /1 unreadable line/);

  // Without our dissector: every layer decodes and the TCP payloads are the V2GTP messages.
  const payloads = tshark(['-r', out, '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'tcp.payload', '-e', 'tcp.checksum.status', '-e', 'ipv6.src', '-e', 'tcp.dstport'])
    .trim().split('\n').map((line) => line.split('\t'));
  assert.equal(payloads.length, real.length);
  payloads.forEach(([payload, checksum, source, port], i) => {
    assert.equal(payload, real[i]!.hex, `message ${i}`);
    assert.equal(checksum, '1', `TCP checksum of message ${i} is good`);
    assert.match(source!, /^fe80::/);
    assert.equal(port, real[i]!.direction === 'rx' ? '15118' : '50000');
  });
  const handshake = tshark(['-r', out, '-Y', 'tcp.flags.syn == 1', '-T', 'fields', '-e', 'tcp.flags.ack']).trim().split('\n');
  assert.deepEqual(handshake, ['0', '1']);
  const analysis = tshark(['-r', out, '-Y', 'tcp.analysis.flags && !tcp.analysis.window_update']).trim();
  assert.equal(analysis, '', 'no TCP analysis warning (lost segment, retransmission, ...)');

  // With the V2GTP dissector we ship: header fields and the comment with the decoded message.
  const rows = tshark(['-X', `lua_script:${LUA_DISSECTOR}`, '-r', out, '-Y', 'v2gtp', '-T', 'fields', '-E', 'separator=|', '-e', 'v2gtp.version', '-e', 'v2gtp.payload_type', '-e', 'v2gtp.payload_length', '-e', 'v2gtp.payload', '-e', 'frame.comment'])
    .trim().split('\n').map((line) => line.split('|'));
  assert.equal(rows.length, real.length);
  rows.forEach(([version, type, length, payload, comment], i) => {
    const exi = real[i]!.hex.slice(16);
    assert.equal(version, '0x01');
    assert.equal(type, '0x8001');
    assert.equal(Number(length), exi.length / 2);
    assert.equal(payload, exi);
    assert.ok(comment!.includes(JSON.stringify(real[i]!.decoded)), `comment of message ${i} carries the decoded JSON`);
  });
  assert.match(rows[2]![4]!, /^EV -> SECC din SessionSetupReq/);
});

test('trace export --session picks a named session; ndjson gives its records as written', async () => {
  const { dir, earlier } = traceDir();
  const out = join(dir, 'earlier.ndjson');
  const io = captureIO();
  assert.equal(await traceCommand.run(['export', '--format', 'ndjson', '--out', out, '--session', 'earlier01', '--dir', dir], io), 0, io.err.text);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as V2gTraceRecord);
  assert.deepEqual(lines, earlier);
  const list = captureIO();
  assert.equal(await traceCommand.run(['sessions', '--json', '--dir', dir], list), 0);
  assert.deepEqual((JSON.parse(list.out.text) as Array<{ id: string }>).map((s) => s.id), ['EARLIER01', '0102030405060708']);
});

test('trace export: bad usage exits 2 with the reason, an unknown session exits 1 naming the known ones', async () => {
  const { dir } = traceDir();
  await assert.rejects(traceCommand.run(['export', '--format', 'pcap', '--out', 'x', '--dir', dir], captureIO()), (e: unknown) => e instanceof UsageError && /pcapng or ndjson, not 'pcap'/.test(e.message));
  await assert.rejects(traceCommand.run(['export', '--format', 'pcapng', '--dir', dir], captureIO()), (e: unknown) => e instanceof UsageError && /--out/.test(e.message));
  await assert.rejects(traceCommand.run(['frobnicate'], captureIO()), UsageError);
  const io = captureIO();
  assert.equal(await traceCommand.run(['export', '--format', 'pcapng', '--out', join(dir, 'x'), '--session', 'nope', '--dir', dir], io), 1);
  assert.match(io.err.text, /no session 'nope'.*EARLIER01, 0102030405060708/);
  const empty = captureIO();
  assert.equal(await traceCommand.run(['export', '--format', 'pcapng', '--out', join(dir, 'x'), '--dir', tempDir()], empty), 1);
  assert.match(empty.err.text, /V2G trace is empty/);
});

test('pcapng export: SDP over UDP multicast, real captured frames as they are, IPv4 endpoints, long messages segmented', { skip: noTshark }, () => {
  const dir = tempDir();
  const base = { session: 'S1', protocol: 'din' } as const;
  const big = '01fe8001' + (3000).toString(16).padStart(8, '0') + 'ab'.repeat(3000);
  const capturedFrame = 'ffffffffffff020000000001' + '88e1' + '01'.repeat(46);
  const records: V2gTraceRecord[] = [
    { ...base, at: 1000, direction: 'rx', payloadType: 0x9000, hex: '01fe9000000000021000' },
    { ...base, at: 1001, direction: 'tx', payloadType: 0x9001, hex: '01fe900100000014fe800000000000000000000000000001c3521000' },
    { ...base, session: 'S2', at: 1002, direction: 'rx', payloadType: 0x8001, hex: big, tcp: { local: '::ffff:192.168.1.1', localPort: 61000, remote: '::ffff:192.168.1.2', remotePort: 40000 } },
    { ...base, at: 1003, direction: 'tx', payloadType: 0x8001, hex: '01fe80010000000480400040', frame: capturedFrame },
  ];
  const out = join(dir, 'x.pcapng');
  writeFileSync(out, v2gRecordsToPcapng(records));
  const rows = tshark(['-r', out, '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.protocols', '-e', 'ipv6.dst', '-e', 'ip.src', '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status', '-e', 'tcp.len'])
    .trim().split('\n').map((l) => l.split('|'));
  assert.match(rows[0]![0]!, /eth:ethertype:ipv6:udp/);
  assert.equal(rows[0]![1], 'ff02::1');
  assert.equal(rows[0]![3], '1');
  assert.equal(rows[1]![3], '1');
  const data = rows.filter((r) => r[2] === '192.168.1.2' && Number(r[5]) > 0);
  assert.deepEqual(data.map((r) => Number(r[5])), [1440, 1440, 128], 'a 3008-byte message in MSS-sized segments');
  assert.ok(data.every((r) => r[4] === '1'));
  assert.match(rows[rows.length - 1]![0]!, /eth:ethertype:homeplug-av/);
});

test('the committed fixture is what the real capture gives', { skip: existsSync(CAPTURE) ? false : 'needs ../shared/captures (the Ioniq DIN session)' }, () => {
  assert.deepEqual(fixtureLines(readFileSync(CAPTURE, 'utf8')), readFileSync(FIXTURE, 'utf8').trim().split('\n'));
});
