import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '@opensecc/plugin-api';
import { runEvSimulation, type EvProgress } from '../../sim/ev-simulator.js';
import { EvPncFileError, loadEvPncCredentials } from '../../sim/pnc-credentials.js';
import type { Iso2EvccPncOptions } from '../../v2g/iso2/evcc-pnc.js';
import { UsageError, type CliCommand } from '../command.js';

/** Where `secc start --sim` puts the link with the default pluginHost.runDir (relative to the working directory, as the daemon resolves it). */
const DEFAULT_SIM_LINK = 'var/run/sim-link.sock';

const HELP = `usage: secc sim ev --protocol din|iso2 [--mode dc|ac] [--host ADDR] [--iface IFACE] [--no-slac] [--link PATH | --no-link] [--tls] [--ca FILE] [--pnc [--pki DIR] [--contract-cert FILE --contract-key FILE] [--oem-cert FILE --oem-key FILE] [--root FILE]... [--install-certificate | --update-certificate]] [--soc N] [--target-soc N] [--capacity-wh N] [--speed N] [--sdp-port N] [--pause-at-soc N [--pause-ms N]] [--renegotiate-at-soc N] [--services ID[:SET],...] [--verbose]

ev   runs a simulated EV as a separate process against a running 'secc start': SLAC (with --iface),
     SDP, V2GTP over TCP or TLS, DIN 70121 DC or ISO 15118-2 AC/DC with a battery model, then prints a one-line JSON
     summary last: {"ok", "protocol", "mode", "security", "messages", "energy_wh", "initial_soc",
     "final_soc", "stop_reason", "session_id", "sequence"}.
     Exit code 0 when the session ended as planned (SessionStop after the target SoC), 1 otherwise.

  --protocol din|iso2   the V2G protocol (DIN 70121 or ISO 15118-2)
  --mode dc|ac          energy transfer (default dc; ac needs --protocol iso2)
  --host ADDR           send SDP to this unicast address (default ::1 without --iface)
  --iface IFACE         the EV's network interface: SLAC over a raw socket, SDP to ff02::1 on it
  --no-slac             skip SLAC on --iface
  --link PATH           the daemon's simulated PLC link + control pilot socket (secc start --sim):
                        SLAC and the CP states go over it (default var/run/sim-link.sock when it exists)
  --no-link             do not use the simulated link (the daemon's board then follows the session)
  --tls                 ask for TLS in SDP and connect with TLS 1.2
  --ca FILE             verify the SECC certificate chain against this root PEM, e.g. v2g-root.pem from 'secc pki generate' (no host name check; default: not verified)
  --pnc                 Plug & Charge (ISO 15118-2, needs --tls): select Contract, PaymentDetails with the
                        contract chain and eMAID, AuthorizationReq (and MeteringReceiptReq) signed with the
                        contract key; without a contract, CertificateInstallation with the OEM provisioning
                        certificate first (the contract key is decrypted from the response). The summary
                        adds "emaid" and "contract_installed"
  --pki DIR             credentials from a 'secc pki generate' directory: contract-chain.pem + contract.key.pem,
                        oem-provisioning.pem + .key.pem, trusted roots v2g-root.pem + mo-root.pem, and
                        (with --tls and no --ca) v2g-root.pem to verify the SECC certificate
  --contract-cert FILE  contract certificate chain, leaf first (PEM); with --contract-key FILE
  --oem-cert FILE       OEM provisioning certificate (PEM); with --oem-key FILE
  --root FILE           a root the EV trusts (V2G, MO; repeatable): ListOfRootCertificateIDs and the check
                        of the certificate provisioning service's chain
  --install-certificate CertificateInstallation even when a contract is at hand (with --pki: start without one)
  --update-certificate  CertificateUpdate before paying: the request signed with the current contract key, the
                        new contract key decrypted with it, then PaymentDetails/Authorization with the new
                        contract. The summary adds "contract_updated" and "contract_serial"
  --soc N               state of charge at plug-in, percent (default 40)
  --target-soc N        stop at this SoC, percent (default 80)
  --capacity-wh N       battery capacity (default 40000)
  --speed N             simulated seconds per real second for the battery (default 60)
  --sdp-port N          SDP port of the SECC (default 15118)
  --pause-at-soc N      ISO 15118-2: pause the session at this SoC (SessionStop Pause), then wake up and resume it
  --pause-ms N          how long the EV sleeps while paused (default 1000)
  --renegotiate-at-soc N  ISO 15118-2: renegotiate once on the EV's initiative at this SoC
  --services ID[:SET],... ISO 15118-2: value-added services to use besides charging, e.g. 3:3,60001:1
                        (ServiceID, optionally ':' and the ParameterSetID): the EV discovers all
                        services, asks ServiceDetail for each and selects them in
                        PaymentServiceSelection; the summary lists them as "selected_services"
  --verbose             log to stderr; progress lines go to stderr always`;

interface Parsed {
  protocol?: string;
  mode: string;
  host?: string;
  iface?: string;
  slac: boolean;
  tls: boolean;
  ca?: string;
  pnc: boolean;
  pki?: string;
  contractCert?: string;
  contractKey?: string;
  oemCert?: string;
  oemKey?: string;
  roots: string[];
  install: boolean;
  update: boolean;
  soc: number;
  targetSoc: number;
  capacityWh: number;
  speed: number;
  sdpPort?: number;
  verbose: boolean;
  link?: string;
  noLink: boolean;
  pauseAtSoc?: number;
  pauseMs?: number;
  renegotiateAtSoc?: number;
  services?: Array<{ serviceId: number; parameterSetId?: number }>;
}

function parse(args: string[]): Parsed {
  const out: Parsed = { roots: [], install: false, update: false, noLink: false, mode: 'dc', slac: true, tls: false, pnc: false, soc: 40, targetSoc: 80, capacityWh: 40_000, speed: 60, verbose: false };
  const value = (i: number, name: string) => {
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  const number = (i: number, name: string, min: number, max: number) => {
    const text = value(i, name);
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} must be a number from ${min} to ${max}, got '${text}'`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    switch (arg) {
      case '--protocol': out.protocol = value(i++, arg); break;
      case '--mode': out.mode = value(i++, arg); break;
      case '--host': out.host = value(i++, arg); break;
      case '--iface': out.iface = value(i++, arg); break;
      case '--no-slac': out.slac = false; break;
      case '--tls': out.tls = true; break;
      case '--ca': out.ca = value(i++, arg); break;
      case '--pnc': out.pnc = true; break;
      case '--pki': out.pki = value(i++, arg); break;
      case '--contract-cert': out.contractCert = value(i++, arg); break;
      case '--contract-key': out.contractKey = value(i++, arg); break;
      case '--oem-cert': out.oemCert = value(i++, arg); break;
      case '--oem-key': out.oemKey = value(i++, arg); break;
      case '--root': out.roots.push(value(i++, arg)); break;
      case '--install-certificate': out.install = true; break;
      case '--update-certificate': out.update = true; break;
      case '--soc': out.soc = number(i++, arg, 0, 100); break;
      case '--target-soc': out.targetSoc = number(i++, arg, 0, 100); break;
      case '--capacity-wh': out.capacityWh = number(i++, arg, 1, 1e7); break;
      case '--speed': out.speed = number(i++, arg, 0.001, 1e6); break;
      case '--sdp-port': out.sdpPort = number(i++, arg, 1, 65535); break;
      case '--verbose': out.verbose = true; break;
      case '--link': out.link = value(i++, arg); break;
      case '--no-link': out.noLink = true; break;
      case '--pause-at-soc': out.pauseAtSoc = number(i++, arg, 0, 100); break;
      case '--pause-ms': out.pauseMs = number(i++, arg, 0, 3_600_000); break;
      case '--renegotiate-at-soc': out.renegotiateAtSoc = number(i++, arg, 0, 100); break;
      case '--services': out.services = parseServices(value(i++, arg)); break;
      default: throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (out.protocol === undefined) throw new UsageError('--protocol is required (din or iso2)');
  if (out.protocol !== 'din' && out.protocol !== 'iso2') throw new UsageError(`--protocol must be din or iso2, got '${out.protocol}'`);
  if (out.mode !== 'dc' && out.mode !== 'ac') throw new UsageError(`--mode must be dc or ac, got '${out.mode}'`);
  if (out.pnc && out.protocol === 'din') throw new UsageError('--pnc needs --protocol iso2 (DIN 70121 has no Plug & Charge)');
  const pncFlags = out.pki ?? out.contractCert ?? out.contractKey ?? out.oemCert ?? out.oemKey ?? (out.roots.length > 0 || out.install || out.update ? 'set' : undefined);
  if (pncFlags !== undefined && !out.pnc) throw new UsageError('--pki, --contract-*, --oem-*, --root, --install-certificate and --update-certificate go with --pnc');
  if (out.mode === 'ac' && out.protocol === 'din') throw new UsageError('--mode ac needs --protocol iso2 (DIN 70121 is DC only)');
  if ((out.pauseAtSoc !== undefined || out.renegotiateAtSoc !== undefined) && out.protocol !== 'iso2') throw new UsageError('--pause-at-soc and --renegotiate-at-soc need --protocol iso2');
  if (out.services && out.protocol !== 'iso2') throw new UsageError('--services needs --protocol iso2 (DIN 70121 has no value-added services)');
  return out;
}

/** `3:3,60001:1` → [{serviceId: 3, parameterSetId: 3}, {serviceId: 60001, parameterSetId: 1}]. */
function parseServices(text: string): Array<{ serviceId: number; parameterSetId?: number }> {
  const services = text.split(',').map((item) => {
    const match = /^(\d+)(?::(-?\d+))?$/.exec(item.trim());
    const serviceId = match ? Number(match[1]) : NaN;
    const parameterSetId = match?.[2] !== undefined ? Number(match[2]) : undefined;
    if (!match || serviceId < 2 || serviceId > 65535 || (parameterSetId !== undefined && (parameterSetId < -32768 || parameterSetId > 32767))) {
      throw new UsageError(`--services: '${item}' is not ID[:SET] with a ServiceID from 2 to 65535 (1 is the charge service) and a ParameterSetID that fits xs:short`);
    }
    return { serviceId, ...(parameterSetId !== undefined ? { parameterSetId } : {}) };
  });
  const ids = services.map((s) => s.serviceId);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new UsageError(`--services: service ${twice} is named twice`);
  return services;
}

export const simCommand: CliCommand = {
  name: 'sim',
  summary: 'run a simulated EV (SLAC, SDP, TCP/TLS, DIN 70121 DC) against a running daemon',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'ev') throw new UsageError(sub === undefined ? 'missing subcommand (ev)' : `unknown subcommand '${sub}'`);
    const o = parse(rest);
    const fail = (reason: string) => {
      io.stdout.write(JSON.stringify({ ok: false, protocol: o.protocol, mode: o.mode, messages: 0, energy_wh: 0, final_soc: o.soc, stop_reason: reason }) + '\n');
      return 1;
    };
    let pnc: Iso2EvccPncOptions | undefined;
    if (o.pnc) {
      try {
        pnc = loadEvPncCredentials({
          ...(o.pki ? { pkiDir: o.pki } : {}),
          ...(o.contractCert ? { contractCert: o.contractCert } : {}),
          ...(o.contractKey ? { contractKey: o.contractKey } : {}),
          ...(o.oemCert ? { oemCert: o.oemCert } : {}),
          ...(o.oemKey ? { oemKey: o.oemKey } : {}),
          roots: o.roots,
          install: o.install,
          update: o.update,
        });
      } catch (error) {
        if (error instanceof EvPncFileError) throw new UsageError(error.message);
        throw error;
      }
      // The EV checks the SECC certificate against the V2G root of the PKI it was given.
      if (o.tls && !o.ca && o.pki && existsSync(resolve(o.pki, 'v2g-root.pem'))) o.ca = resolve(o.pki, 'v2g-root.pem');
    }
    const log = pino({ level: o.verbose ? 'debug' : 'silent', base: { component: 'sim-ev' } }, pino.destination(2)) as unknown as Logger;
    let ca: Buffer | undefined;
    if (o.ca) {
      try {
        ca = readFileSync(o.ca);
      } catch (error) {
        throw new UsageError(`--ca ${o.ca}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    let slacLink;
    if (o.iface && o.slac) {
      const { openRawLink } = await import('../../slac/raw-link.js');
      try {
        slacLink = await openRawLink(o.iface);
      } catch (error) {
        return fail(`SLAC: ${(error as Error).message}`);
      }
    }
    // Without a real interface the EV attaches to the daemon's simulated link (SLAC + control pilot).
    let simLinkPath: string | undefined;
    if (!o.iface && !o.noLink) {
      simLinkPath = o.link ?? resolve(DEFAULT_SIM_LINK);
      if (!o.link && !existsSync(simLinkPath)) {
        io.stderr.write(`[sim ev] no simulated link at ${simLinkPath}: running without SLAC and control pilot\n`);
        simLinkPath = undefined;
      }
    }
    let lastLineAt = 0;
    const progress = (p: EvProgress) => {
      // The CurrentDemand loop runs at ~10 Hz: one progress line a second is enough.
      if ((p.step === 'CurrentDemand' || p.step === 'ChargingStatus') && Date.now() - lastLineAt < 1000) return;
      lastLineAt = Date.now();
      const line = `${p.step} SoC ${p.soc.toFixed(1)} %${p.voltage !== undefined ? ` ${p.voltage.toFixed(1)} V` : ''}${p.current !== undefined ? ` ${p.current.toFixed(1)} A` : ''}`;
      io.stderr.write(`[sim ev] ${line}\n`);
    };
    try {
      const summary = await runEvSimulation({
        protocol: o.protocol as 'din' | 'iso2',
        mode: o.mode as 'dc' | 'ac',
        ...(o.pauseAtSoc !== undefined ? { pauseAtSoc: o.pauseAtSoc } : {}),
        ...(o.pauseMs !== undefined ? { pauseMs: o.pauseMs } : {}),
        ...(o.renegotiateAtSoc !== undefined ? { renegotiateAtSoc: o.renegotiateAtSoc } : {}),
        ...(o.services ? { services: o.services } : {}),
        ...(o.host ? { host: o.host } : o.iface ? {} : { host: '::1' }),
        ...(o.iface ? { iface: o.iface } : {}),
        ...(o.sdpPort ? { sdpPort: o.sdpPort } : {}),
        tls: o.tls,
        ...(pnc ? { pnc } : {}),
        ...(ca ? { tlsCa: ca } : {}),
        ...(slacLink ? { slacLink } : {}),
        ...(simLinkPath ? { simLinkPath } : {}),
        battery: { initialSoc: o.soc, targetSoc: o.targetSoc, capacityWh: o.capacityWh, speed: o.speed },
        log,
        onProgress: progress,
      });
      io.stdout.write(JSON.stringify(summary) + '\n');
      return summary.ok ? 0 : 1;
    } finally {
      slacLink?.close();
    }
  },
};
