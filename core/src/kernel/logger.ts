import { pino, type Level, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type LogLevel = Level | 'silent';

export interface LoggingConfig {
  /** Default level for every component. */
  level: LogLevel;
  /** Per-component overrides, keyed by component name (`slac`, `v2g`, `plugin:mqtt-api`, ...). */
  levels?: Record<string, LogLevel>;
}

/**
 * One pino root, one child per component. Levels are kept per component so that a live config
 * change can raise `slac` to debug without touching anything else.
 */
export class LogManager {
  readonly root: PinoLogger;
  private readonly children = new Map<string, PinoLogger>();
  private config: LoggingConfig;

  constructor(config: LoggingConfig, destination?: DestinationStream) {
    this.config = config;
    this.root = pino(
      { level: 'trace', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
      destination ?? pino.destination({ dest: 1, sync: false }),
    );
  }

  /** The logger of one component, created on first use. */
  for(component: string): PinoLogger {
    let child = this.children.get(component);
    if (!child) {
      child = this.root.child({ component });
      child.level = this.levelOf(component);
      this.children.set(component, child);
    }
    return child;
  }

  /** Apply new levels live to every existing component logger. */
  reconfigure(config: LoggingConfig): void {
    this.config = config;
    for (const [component, child] of this.children) child.level = this.levelOf(component);
  }

  levelOf(component: string): LogLevel {
    return this.config.levels?.[component] ?? this.config.level;
  }

  flush(): void {
    this.root.flush();
  }
}
