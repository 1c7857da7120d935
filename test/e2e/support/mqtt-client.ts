/**
 * The customer's side of the end-to-end tests: a real `mqtt` client that records every message it
 * receives (retained flag included) and can wait for one; plus a Mosquitto process on a free
 * loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { freePort } from '#support/net.js';

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/** Bounds every wait (a hang guard, not a timing check); a failure names what was awaited. */
export const WAIT_MS = 20_000;

export class Recorder {
  readonly messages: Received[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
      for (const listener of [...this.listeners]) listener();
    });
  }

  static async connect(url: string, subscribe: string[] = ['#']): Promise<Recorder> {
    const client = await connectAsync(url, { reconnectPeriod: 100, clean: true, connectTimeout: 5000 });
    client.on('error', () => {}); // the daemon stops its broker at the end of a test
    const recorder = new Recorder(client);
    await client.subscribeAsync(subscribe, { qos: 1 });
    return recorder;
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  /** The first message (from index `from` on) that matches, waiting for it if needed. */
  waitFor(what: string, match: (m: Received) => boolean, from = 0, timeoutMs = WAIT_MS): Promise<Received> {
    const find = () => this.messages.slice(from).find(match);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        const recent = this.messages.slice(from).slice(-30).map((m) => `${m.topic}=${m.payload}${m.retain ? ' (retained)' : ''}`);
        reject(new Error(`no MQTT message ${what} within ${timeoutMs} ms; last received: ${JSON.stringify(recent)}`));
      }, timeoutMs);
      const check = () => {
        const hit = find();
        if (!hit) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(hit);
      };
      this.listeners.add(check);
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export const on = (topic: string, payload: string) => (m: Received) => m.topic === topic && m.payload === payload;

export async function waitUntil(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

export interface MosquittoProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** A private Mosquitto (generated config, free loopback port, no persistence), not the system service. */
export async function startMosquitto(): Promise<MosquittoProcess> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'secc-e2e-mosquitto-'));
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, ['user root', `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
  let stderr = '';
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const started = Date.now();
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() - started > WAIT_MS) throw new Error(`mosquitto does not listen on ${port}: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
