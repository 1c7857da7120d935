import type { Logger } from '@opensecc/plugin-api';

/** A kernel subsystem with a lifecycle. `dependsOn` names components that must start first. */
export interface Component {
  readonly name: string;
  readonly dependsOn?: readonly string[];
  init?(): void | Promise<void>;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/**
 * init → start → stop for every component, in dependency order (stop in reverse). A stop that
 * fails is logged and the rest still stop, so a shutdown always reaches the safety-relevant parts.
 */
export class Lifecycle {
  private readonly components = new Map<string, Component>();
  private started: Component[] = [];

  constructor(private readonly log: Logger) {}

  add(component: Component): void {
    if (this.components.has(component.name)) throw new Error(`component '${component.name}' is registered twice`);
    this.components.set(component.name, component);
  }

  order(): Component[] {
    const ordered: Component[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (component: Component, path: string[]) => {
      const mark = state.get(component.name);
      if (mark === 'done') return;
      if (mark === 'visiting') throw new Error(`component dependency cycle: ${[...path, component.name].join(' -> ')}`);
      state.set(component.name, 'visiting');
      for (const dependency of component.dependsOn ?? []) {
        const target = this.components.get(dependency);
        if (!target) throw new Error(`component '${component.name}' depends on unknown component '${dependency}'`);
        visit(target, [...path, component.name]);
      }
      state.set(component.name, 'done');
      ordered.push(component);
    };
    for (const component of this.components.values()) visit(component, []);
    return ordered;
  }

  async startAll(): Promise<void> {
    const ordered = this.order();
    for (const component of ordered) await component.init?.();
    for (const component of ordered) {
      await component.start?.();
      this.started.push(component);
      this.log.debug({ component: component.name }, 'component started');
    }
  }

  async stopAll(): Promise<void> {
    const started = this.started.reverse();
    this.started = [];
    for (const component of started) {
      try {
        await component.stop?.();
      } catch (error) {
        this.log.error({ err: error, component: component.name }, 'component stop failed; continuing shutdown');
      }
    }
  }
}
