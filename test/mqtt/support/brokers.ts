/**
 * The brokers the acceptance suite runs against: the embedded aedes broker (through its plugin)
 * and a real Mosquitto process with a generated config on a free loopback port (not the system
 * service). Both can be killed and started again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelBus } from '@opensecc/core/kernel/bus';
import brokerPlugin, { type MqttBrokerApi, type MqttBrokerConfig } from '@opensecc/plugin-mqtt-broker';
import { freePort } from '#support/net.js';
import { startPlugin, type StartedPlugin } from './plugin-context.js';


export interface BrokerUnderTest {
  readonly kind: string;
  readonly url: string;
  /** The embedded broker's capability: the stack reaches it inside the process (the daemon's default) instead of dialling `url`. */
  readonly inProcess?: MqttBrokerApi;
  /** Take the broker away abruptly (clients see the connection drop; retained messages are lost). */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

/** Resolves once something accepts TCP connections on the port (retries every 20 ms, up to `attempts`). */
async function waitForListener(port: number, attempts = 250): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

export async function startAedes(): Promise<BrokerUnderTest> {
  // The broker plugin needs no bus of its own; it gets one as every plugin does.
  const bus = new KernelBus();
  const start = (port: number) => startPlugin<Partial<MqttBrokerConfig>, MqttBrokerApi>(brokerPlugin, { bus, config: { host: '127.0.0.1', port } });
  let plugin: StartedPlugin<MqttBrokerApi> | undefined = await start(0);
  const port = plugin.api.port;
  return {
    kind: 'aedes (embedded broker plugin)',
    url: `mqtt://127.0.0.1:${port}`,
    async kill() {
      await plugin?.stop();
      plugin = undefined;
    },
    async restart() {
      plugin = await start(port);
    },
    async stop() {
      await plugin?.stop();
      plugin = undefined;
    },
  };
}

/** The embedded broker as the daemon uses it by default: the MQTT API publishes as the broker and guards client writes there. */
export async function startAedesInProcess(): Promise<BrokerUnderTest> {
  const plugin = await startPlugin<Partial<MqttBrokerConfig>, MqttBrokerApi>(brokerPlugin, { bus: new KernelBus(), config: { host: '127.0.0.1', port: 0 } });
  const unsupported = () => Promise.reject(new Error('the in-process broker lives and dies with the stack'));
  return {
    kind: 'aedes reached in process',
    url: `mqtt://127.0.0.1:${plugin.api.port}`,
    inProcess: plugin.api,
    kill: unsupported,
    restart: unsupported,
    stop: () => plugin.stop(),
  };
}

/** `listenerOptions`: extra mosquitto.conf lines for the listener (TLS, authentication). */
export async function startMosquitto(listenerOptions: string[] = [], scheme = 'mqtt'): Promise<BrokerUnderTest> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'secc-mosquitto-'));
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(
    configFile,
    [
      // Stay root: the generated files live in a directory only root can read.
      'user root',
      'per_listener_settings true',
      `listener ${port} 127.0.0.1`,
      ...(listenerOptions.length ? listenerOptions : ['allow_anonymous true']),
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let stderr = '';
  const launch = async () => {
    const proc = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    child = proc;
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}: ${stderr}`))));
    await Promise.race([waitForListener(port), exited]);
    exited.catch(() => {}); // later exits are kills by the test
  };
  const terminate = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await gone;
  };
  await launch();
  return {
    kind: `mosquitto (${MOSQUITTO}, port ${port})`,
    url: `${scheme}://127.0.0.1:${port}`,
    kill: () => terminate('SIGKILL'),
    restart: launch,
    stop: () => terminate('SIGTERM'),
  };
}
