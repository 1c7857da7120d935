/** The kernel's bus validating against the real topic registry, as in the daemon. */
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import type { Bus, TopicDefinition } from '@opensecc/plugin-api';

export interface ValidatingBus {
  readonly kernelBus: KernelBus;
  /** A kernel view of the bus (origin kernel/`viewName`). */
  readonly bus: Bus;
  readonly registry: TopicRegistry;
}

/**
 * `topics` maps an owner to its topic definitions, registered in that order. Handler errors are
 * thrown at the publisher (the test sees them) unless `rethrow` is false (the kernel's default).
 */
export function validatingBus(topics: Record<string, readonly TopicDefinition[]>, options: { viewName?: string; rethrow?: boolean } = {}): ValidatingBus {
  const registry = new TopicRegistry();
  for (const [owner, definitions] of Object.entries(topics)) registry.add(owner, definitions);
  const kernelBus = new KernelBus({
    validate: (topic, value) => registry.validate(topic, value),
    retainPolicy: (topic) => registry.retained(topic),
    ...(options.rethrow === false
      ? {}
      : {
          onHandlerError: (error: unknown) => {
            throw error;
          },
        }),
  });
  return { kernelBus, bus: kernelBus.view({ kind: 'kernel', name: options.viewName ?? 'v2g' }), registry };
}
