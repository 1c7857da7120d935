// A tiny stand-in for the plugin host: a real KernelBus with the registry's validation, the
// plugin's topics registered, a pino logger, an AbortController and a data dir. The lead swaps in
// the real host later; the tests only rely on PluginContext.
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import type { BusMessage, PluginContext, PluginHandle } from '@opensecc/plugin-api';
import plugin, { type FirmwareUpdateApi, type FirmwareUpdateConfig } from '@opensecc/plugin-firmware-update';
import { pino } from 'pino';

export interface Running {
  readonly bus: KernelBus;
  readonly registry: TopicRegistry;
  /** Every value published under firmware/# and ci/firmware/#, in order. */
  readonly events: BusMessage[];
  readonly api: FirmwareUpdateApi;
  /** Publish as the customer's application would (through MQTT). */
  publish(topic: string, value: unknown): void;
  /** Values published on one topic, in order. */
  values(topic: string): unknown[];
  /** Resolve with the first message on `topic` from now on that matches. */
  waitFor(topic: string, predicate: (value: unknown) => boolean, timeoutMs?: number): Promise<BusMessage>;
  stop(): Promise<void>;
}

export async function startPlugin(options: { dataDir: string; config: Partial<FirmwareUpdateConfig> }): Promise<Running> {
  const registry = new TopicRegistry();
  registry.add(plugin.manifest.name, plugin.manifest.topics ?? []);
  const bus = new KernelBus({
    validate: (topic, value) => registry.validate(topic, value),
    retainPolicy: (topic) => registry.retained(topic),
    onHandlerError: (error) => {
      throw error;
    },
  });
  const events: BusMessage[] = [];
  const waiters = new Set<(message: BusMessage) => void>();
  for (const pattern of ['firmware/#', 'ci/firmware/#']) {
    bus.subscribe(pattern, (message) => {
      events.push(message);
      for (const waiter of [...waiters]) waiter(message);
    });
  }
  const controller = new AbortController();
  const log = pino({ level: process.env.FW_TEST_LOG ?? 'silent' });
  const context: PluginContext<Partial<FirmwareUpdateConfig> & Record<string, unknown>> = {
    manifest: plugin.manifest,
    config: options.config,
    bus: bus.view({ kind: 'plugin', name: plugin.manifest.name }),
    log,
    signal: controller.signal,
    onConfigChange: () => {},
    use: () => {
      throw new Error('no capabilities in the test harness');
    },
    dataDir: options.dataDir,
  };
  const handle = (await plugin.start(context)) as PluginHandle<FirmwareUpdateApi>;
  const external = bus.view({ kind: 'external', name: 'test-client' });
  return {
    bus,
    registry,
    events,
    api: handle.api!,
    publish: (topic, value) => external.publish(topic, value),
    values: (topic) => events.filter((e) => e.topic === topic).map((e) => e.value),
    waitFor(topic, predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const waiter = (message: BusMessage) => {
          if (message.topic !== topic || !predicate(message.value)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(message);
        };
        // A safety net so that a broken plugin fails the test instead of hanging it.
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no value on ${topic} matching the expectation; seen: ${JSON.stringify(events.filter((e) => e.topic === topic).map((e) => e.value))}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop() {
      await handle.stop?.();
      controller.abort();
    },
  };
}

/** Publish the target topics the way seed 7.5 asks: max_trials and interval first, the URL last. */
export function requestUpdate(running: Running, url: string, maxTrials: number | '' = '', interval: number | '' = ''): void {
  running.publish('firmware/update/target/max_trials', maxTrials);
  running.publish('firmware/update/target/interval', interval);
  running.publish('firmware/update/target/url', url);
}

/** Wait until the update reached its final result. */
export function finalResult(running: Running): Promise<BusMessage> {
  return running.waitFor('firmware/update/result/state', (v) => v === 'succeeded' || v === 'failed');
}

/** The firmware/update/state/actual values without consecutive repeats. */
export function stateSequence(running: Running): string[] {
  const out: string[] = [];
  for (const value of running.values('firmware/update/state/actual')) if (out.at(-1) !== value) out.push(value as string);
  return out;
}
