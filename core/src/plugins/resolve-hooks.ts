/**
 * Module resolve hook (registered with node:module register()): a hot-loaded plugin lives outside
 * the project's node_modules, yet `import ... from '@opensecc/plugin-api'` must reach our copy.
 */
let pluginApiUrl = '';

export function initialize(data: { pluginApiUrl: string }): void {
  pluginApiUrl = data.pluginApiUrl;
}

export async function resolve(
  specifier: string,
  context: unknown,
  nextResolve: (specifier: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (specifier === '@opensecc/plugin-api' && pluginApiUrl) return { url: pluginApiUrl, shortCircuit: true };
  return nextResolve(specifier, context);
}
