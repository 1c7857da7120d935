import type { PluginDefinition } from '@opensecc/plugin-api';
import type { BuiltInPlugin } from '../plugins/types.js';

/**
 * The plugins shipped with OpenSECC, by name and module. The kernel does not import them at
 * compile time (it knows nothing of MQTT or CAN); a disabled one is never imported at all.
 */
const SHIPPED: ReadonlyArray<readonly [name: string, module: string]> = [
  ['mqtt-broker', '@opensecc/plugin-mqtt-broker'],
  ['mqtt-api', '@opensecc/plugin-mqtt-api'],
  ['firmware-update', '@opensecc/plugin-firmware-update'],
  ['logging', '@opensecc/plugin-logging'],
  ['can', '@opensecc/plugin-can'],
  ['pnc', '@opensecc/plugin-pnc'],
  ['vas', '@opensecc/plugin-vas'],
];

export function builtInPlugins(): BuiltInPlugin[] {
  return SHIPPED.map(([name, module]) => ({
    name,
    async load() {
      const loaded = (await import(module)) as { default: PluginDefinition };
      return loaded.default;
    },
  }));
}
