import { BusAccessError, type Bus, type BusHandler, type PluginManifest } from '@opensecc/plugin-api';
import { patternCovers, topicMatches } from '../kernel/topic-match.js';
import type { KernelBus } from '../kernel/bus.js';

/**
 * The bus as a plugin sees it: reads and writes limited to the patterns its manifest declares,
 * publishes stamped with the plugin's name, and exceptions in its handlers attributed to it.
 */
export function fencedBus(
  bus: KernelBus,
  manifest: PluginManifest,
  onHandlerError: (error: unknown, topic: string) => void,
): Bus & { dispose(): void } {
  const origin = { kind: 'plugin', name: manifest.name } as const;
  const read = manifest.bus?.read ?? [];
  const write = manifest.bus?.write ?? [];
  const mayRead = (pattern: string) => read.some((allowed) => patternCovers(allowed, pattern));
  const mayReadTopic = (topic: string) => read.some((allowed) => topicMatches(allowed, topic));
  const mayWrite = (topic: string) => write.some((allowed) => topicMatches(allowed, topic));
  const subscriptions = new Set<() => void>();

  return {
    publish(topic, value, options) {
      if (!mayWrite(topic)) throw new BusAccessError(topic, manifest.name, 'write');
      bus.publish(topic, value, origin, options);
    },
    subscribe(pattern, handler, options) {
      if (!mayRead(pattern)) throw new BusAccessError(pattern, manifest.name, 'read');
      const guarded: BusHandler = (message) => {
        try {
          (handler as BusHandler)(message);
        } catch (error) {
          onHandlerError(error, message.topic);
        }
      };
      const unsubscribe = bus.subscribe(pattern, guarded, options);
      const remove = () => {
        unsubscribe();
        subscriptions.delete(remove);
      };
      subscriptions.add(remove);
      return remove;
    },
    get(topic) {
      if (!mayReadTopic(topic)) throw new BusAccessError(topic, manifest.name, 'read');
      return bus.get(topic);
    },
    snapshot(pattern = '#') {
      return bus.snapshot(pattern).filter((message) => mayReadTopic(message.topic));
    },
    /** Drop every subscription the plugin made (it is being stopped). */
    dispose() {
      for (const remove of [...subscriptions]) remove();
    },
  };
}
