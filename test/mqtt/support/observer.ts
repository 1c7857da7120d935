/** A customer's application: a real MQTT client that records what it receives and can wait for it. */
import { connectAsync, type MqttClient } from 'mqtt';

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly raw: Buffer;
  readonly retain: boolean;
}

/** Generous deadline for something to show up; a failure names what was awaited. Not a timing check. */
const WAIT_MS = 10_000;

export class Observer {
  readonly messages: Received[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString('utf8'), raw: payload, retain: packet.retain });
      for (const listener of [...this.listeners]) listener();
    });
  }

  static async connect(url: string, subscribe: string[] = ['#']): Promise<Observer> {
    const client = await connectAsync(url, { reconnectPeriod: 50, clean: true, connectTimeout: 2000 });
    client.on('error', () => {}); // the tests kill brokers on purpose
    const observer = new Observer(client);
    if (subscribe.length) await client.subscribeAsync(subscribe, { qos: 1 });
    return observer;
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** The first message (from `from` on) that matches, waiting for it if needed. */
  waitFor(what: string, match: (m: Received) => boolean, from = 0): Promise<Received> {
    const find = () => this.messages.slice(from).find(match);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`no MQTT message ${what} within ${WAIT_MS} ms; received: ${JSON.stringify(this.messages.slice(from).slice(-20).map((m) => [m.topic, m.payload]))}`));
      }, WAIT_MS);
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

export function waitUntil(what: string, condition: () => boolean, intervalMs = 10): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() - started > WAIT_MS) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, intervalMs);
    };
    tick();
  });
}
