import type { LoggingConfig } from '../kernel/logger.js';

export interface PluginEntryConfig {
  enabled: boolean;
  sandbox?: boolean;
  config: Record<string, unknown>;
}

export interface PluginHostConfig {
  watchDir: string;
  watch: boolean;
  dataDir: string;
  runDir: string;
  sandboxHotLoaded: boolean;
  sandbox: { memoryMiB: number; cpuTimeMs: number; queueLimit: number; nice: number };
  restart: { initialDelayMs: number; maxDelayMs: number; maxRestarts: number; resetAfterMs: number };
}

/** The validated configuration with every default applied. */
export interface EffectiveConfig {
  log: LoggingConfig;
  board: { type: 'simulated' | 'external'; plcInterface: string; adapter?: string; [key: string]: unknown };
  charging: Record<string, unknown>;
  slac: Record<string, unknown>;
  v2g: Record<string, unknown>;
  pluginHost: PluginHostConfig;
  plugins: Record<string, PluginEntryConfig>;
}
