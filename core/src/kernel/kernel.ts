import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { resolve } from 'node:path';
import { pino, type DestinationStream } from 'pino';
import type { TopicDefinition } from '@opensecc/plugin-api';
import { ConfigService } from '../config/config-service.js';
import { formatProblem } from '../config/errors.js';
import { PluginHost } from '../plugins/host.js';
import { HotLoader } from '../plugins/hot-loader.js';
import type { BuiltInPlugin } from '../plugins/types.js';
import { KernelBus } from './bus.js';
import { kernelTopics } from './kernel-topics.js';
import { Lifecycle, type Component } from './lifecycle.js';
import { LogManager } from './logger.js';
import { LogSink } from './log-sink.js';
import { TopicRegistry } from './topic-registry.js';
import { TOKENS } from './tokens.js';
import { softwareVersion } from './version.js';

export interface KernelOptions {
  /** Shipped defaults; config/default.json of the installation. */
  defaultsFile: string;
  /** The operator's config file layered over the defaults (watched). */
  configFile?: string;
  /** Settings the command line forces, layered over the config files. */
  configOverlay?: unknown;
  builtInPlugins?: readonly BuiltInPlugin[];
  /** Topics of the subsystems the composition root wires in, by owner. */
  subsystemTopics?: ReadonlyArray<readonly [owner: string, topics: readonly TopicDefinition[]]>;
  /** Where logs go (default: stdout as JSON lines). */
  logDestination?: DestinationStream;
  /** Register subsystems (board, charging, SLAC, V2G) before start; they get the container. */
  configure?: (kernel: Kernel) => void | Promise<void>;
}

const KERNEL = { kind: 'kernel', name: 'kernel' } as const;

/**
 * The kernel: a tsyringe container holding the config, logs, bus, topic registry and plugin host,
 * and a lifecycle that starts the registered subsystems and then the plugins in dependency order.
 */
export class Kernel {
  readonly container: DependencyContainer;
  readonly config: ConfigService;
  readonly logs: LogManager;
  readonly bus: KernelBus;
  readonly topics: TopicRegistry;
  readonly lifecycle: Lifecycle;
  readonly plugins: PluginHost;
  /** Kernel APIs that plugins may `use()` by name. */
  readonly capabilities = new Map<string, unknown>();
  private hotLoader: HotLoader | undefined;
  private state: 'created' | 'running' | 'stopped' = 'created';

  constructor(private readonly options: KernelOptions) {
    this.config = new ConfigService({ defaultsFile: options.defaultsFile, userFile: options.configFile, overlay: options.configOverlay });
    const effective = this.config.loadSync();
    // stdout keeps the JSON lines for journald; the sink lets the logging plugin tee them to files.
    const sink = new LogSink(options.logDestination ?? pino.destination({ dest: 1, sync: false }));
    this.logs = new LogManager(effective.log, sink);
    const log = this.logs.for('kernel');
    this.topics = new TopicRegistry();
    this.topics.add('kernel', kernelTopics);
    // Subsystem topics are registered up front, whichever subsystems run: the API stays the same.
    for (const [owner, topics] of options.subsystemTopics ?? []) this.topics.add(owner, topics);
    this.bus = new KernelBus({
      validate: (topic, value) => this.topics.validate(topic, value),
      retainPolicy: (topic) => this.topics.retained(topic),
      onHandlerError: (error, message, pattern) => log.error({ err: error, topic: message.topic, pattern }, 'bus subscriber threw'),
    });
    this.lifecycle = new Lifecycle(log);
    const hostConfig = effective.pluginHost;
    this.plugins = new PluginHost({
      bus: this.bus,
      topics: this.topics,
      config: this.config,
      logs: this.logs,
      kernelCapabilities: this.capabilities,
      dataDir: resolve(hostConfig.dataDir),
      runDir: resolve(hostConfig.runDir),
    });
    for (const plugin of options.builtInPlugins ?? []) this.plugins.addBuiltIn(plugin);

    this.capabilities.set('bus', this.bus);
    this.capabilities.set('topics', this.topics);
    this.capabilities.set('config', this.config);
    this.capabilities.set('logger', this.logs);
    this.capabilities.set('log-sink', sink);

    this.container = rootContainer.createChildContainer();
    this.container.register(TOKENS.Config, { useValue: this.config });
    this.container.register(TOKENS.Logs, { useValue: this.logs });
    this.container.register(TOKENS.Bus, { useValue: this.bus });
    this.container.register(TOKENS.Topics, { useValue: this.topics });
    this.container.register(TOKENS.Lifecycle, { useValue: this.lifecycle });
    this.container.register(TOKENS.PluginHost, { useValue: this.plugins });

    this.config.on('change', ({ current }) => {
      this.logs.reconfigure(current.log);
      log.info({ file: this.config.userFile }, 'config change applied');
    });
    this.config.on('rejected', (error) => {
      for (const problem of error.problems) log.error({ file: problem.file, path: problem.path, reason: problem.reason }, `config change rejected: ${formatProblem(problem)}`);
      this.bus.publish('ci/config/error', { problems: error.problems.map((p) => ({ ...p })) }, KERNEL);
    });
  }

  /**
   * Register a subsystem: a factory under a token (resolved lazily, one instance) and, if it has
   * a lifecycle, as a component. Capabilities it lists are offered to plugins.
   */
  provide<T>(token: symbol, factory: (container: DependencyContainer) => T, options: { capability?: string; component?: (instance: T) => Component } = {}): void {
    this.container.register(token, { useFactory: instanceCachingFactory(factory) });
    if (options.capability) this.lazyCapabilities.set(options.capability, () => this.container.resolve<T>(token));
    if (options.component) this.deferredComponents.push(() => options.component!(this.container.resolve<T>(token)));
  }

  private readonly lazyCapabilities = new Map<string, () => unknown>();
  private readonly deferredComponents: Array<() => Component> = [];

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error('the kernel starts once');
    const log = this.logs.for('kernel');
    this.bus.publish('ci/global/state', 'starting', KERNEL);
    this.bus.publish('ci/global/version/charging_software', softwareVersion(), KERNEL);
    await this.options.configure?.(this);
    for (const [name, resolveApi] of this.lazyCapabilities) this.capabilities.set(name, resolveApi());
    for (const make of this.deferredComponents) this.lifecycle.add(make());
    await this.lifecycle.startAll();
    await this.plugins.startBuiltIns();
    const hostConfig = this.config.current.pluginHost;
    if (hostConfig.watch) {
      this.hotLoader = new HotLoader(resolve(hostConfig.watchDir), this.plugins, this.logs.for('plugin-host'));
      await this.hotLoader.start();
    }
    await this.config.watch();
    this.state = 'running';
    this.bus.publish('ci/global/state', 'running', KERNEL);
    log.info({ version: softwareVersion(), config: this.config.userFile ?? '(defaults)' }, 'kernel ready');
  }

  /** Plugins first, then subsystems in reverse order: the charging subsystem ends with contactors open. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    const log = this.logs.for('kernel');
    if (wasRunning) this.bus.publish('ci/global/state', 'stopping', KERNEL);
    await this.hotLoader?.stop();
    await this.config.close();
    await this.plugins.stopAll();
    await this.lifecycle.stopAll();
    log.info('kernel stopped');
    this.logs.flush();
  }
}
