import type { InjectionToken } from 'tsyringe';
import type { ConfigService } from '../config/config-service.js';
import type { PluginHost } from '../plugins/host.js';
import type { KernelBus } from './bus.js';
import type { Lifecycle } from './lifecycle.js';
import type { LogManager } from './logger.js';
import type { TopicRegistry } from './topic-registry.js';

/**
 * Explicit injection tokens for the kernel's container. Registrations use factories that name
 * these tokens, so nothing depends on emitted decorator metadata.
 */
export const TOKENS = {
  Config: Symbol('Config') as InjectionToken<ConfigService>,
  Logs: Symbol('Logs') as InjectionToken<LogManager>,
  Bus: Symbol('Bus') as InjectionToken<KernelBus>,
  Topics: Symbol('Topics') as InjectionToken<TopicRegistry>,
  Lifecycle: Symbol('Lifecycle') as InjectionToken<Lifecycle>,
  PluginHost: Symbol('PluginHost') as InjectionToken<PluginHost>,
} as const;
