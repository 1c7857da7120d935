/**
 * The embedded broker delivers what is published in one turn completely and in order, retained
 * and non-retained mixed. aedes numbers messages when they are published and drops one that
 * reaches a client after a higher-numbered one; storing a retained message used to take one
 * more asynchronous step, so a retained value followed at once by an event was lost for live
 * subscribers (aedes issues #955, #994).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { EmbeddedBroker } from '@opensecc/plugin-mqtt-broker';
import { memoryLogger } from './support/plugin-context.js';

async function collect(url: string, pattern: string, count: number, act: () => Promise<void>): Promise<string[]> {
  const subscriber = await connectAsync(url, { reconnectPeriod: 0 });
  try {
    const received: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${received.length} of ${count}: ${received.join(' ')}`)), 5000);
      subscriber.on('message', (topic, payload, packet) => {
        if (packet.retain) return; // only live deliveries count here
        received.push(`${topic}=${payload.toString()}`);
        if (received.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await subscriber.subscribeAsync(pattern, { qos: 1 });
    await act();
    await done;
    return received;
  } finally {
    await subscriber.endAsync();
  }
}

const sequence = Array.from({ length: 30 }, (_, i) => ({ topic: i % 2 === 0 ? `state/${i % 3}` : `event/${i % 4}`, payload: String(i), retain: i % 2 === 0 }));
const expected = sequence.map((m) => `${m.topic}=${m.payload}`);

test('broker publishes: retained values and events published in one turn all reach a live subscriber, in order', async () => {
  const broker = await EmbeddedBroker.start({ host: '127.0.0.1', port: 0 }, memoryLogger('mqtt-broker').log);
  try {
    const received = await collect(broker.url, '#', sequence.length, async () => {
      await Promise.all(sequence.map((m) => broker.publish(m.topic, Buffer.from(m.payload), m.retain)));
    });
    assert.deepEqual(received, expected);
  } finally {
    await broker.close();
  }
});

test('client publishes: a client writing retained values and events back to back loses none of them for a live subscriber', async () => {
  const broker = await EmbeddedBroker.start({ host: '127.0.0.1', port: 0 }, memoryLogger('mqtt-broker').log);
  const publisher = await connectAsync(broker.url, { reconnectPeriod: 0 });
  try {
    const received = await collect(broker.url, '#', sequence.length, async () => {
      // Not awaited one by one: the packets arrive at the broker in one burst.
      await Promise.all(sequence.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain })));
    });
    assert.deepEqual(received, expected);
  } finally {
    await publisher.endAsync();
    await broker.close();
  }
});
