import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { PluginDefinition, TopicDefinition } from '@opensecc/plugin-api';
import { builtInPlugins } from '../../daemon/built-in-plugins.js';
import { SUBSYSTEM_TOPICS } from '../../daemon/subsystem-topics.js';
import { kernelTopics } from '../../kernel/kernel-topics.js';
import { TopicRegistry } from '../../kernel/topic-registry.js';
import { UsageError, type CliCommand, type CliIO } from '../command.js';

const HELP = `usage: secc mqtt topics [--json] | secc mqtt docs [--out FILE] [--check]

topics   the topic registry: every bus/MQTT topic with direction (publishable = written by your
         application, subscribeable-only = written by the stack), type, unit, retained, and the
         JSON Schema its payload is validated against. --json prints a JSON array of
         { "topic", "direction", "type", "unit"?, "retained", "schema", "description" }.
docs     renders docs/mqtt-api.md (design text + generated topic tables) from the same registry;
         to stdout, or to FILE with --out. --check compares with FILE instead and exits 1 when it
         is out of date (what \`npm run docs:mqtt\` would change).`;

/** The parts of the MQTT API plugin the command uses (imported at run time: the core has no compile-time MQTT dependency). */
interface MqttApiModule {
  renderMqttApiDoc(template: string, topics: readonly TopicDefinition[]): string;
  DOC_TEMPLATE_URL: URL;
}

/**
 * The registry as the daemon assembles it: kernel topics, subsystem topics and the topics of every
 * shipped plugin's manifest (whether enabled or not: the docs describe everything shipped).
 * A plugin whose module cannot be loaded is reported on stderr and left out.
 */
export async function assembleTopicRegistry(io?: Pick<CliIO, 'stderr'>): Promise<TopicRegistry> {
  const registry = new TopicRegistry();
  registry.add('kernel', kernelTopics);
  for (const [owner, topics] of SUBSYSTEM_TOPICS) registry.add(owner, topics);
  for (const plugin of builtInPlugins()) {
    let definition: PluginDefinition;
    try {
      definition = await plugin.load();
    } catch (error) {
      io?.stderr.write(`secc mqtt: plugin '${plugin.name}' not loadable, its topics are left out: ${(error as Error).message}\n`);
      continue;
    }
    registry.add(plugin.name, (definition.manifest.topics ?? []) as TopicDefinition[]);
  }
  return registry;
}

/** The `secc mqtt topics --json` entry of a topic (key order as documented). */
export function topicJson(t: TopicDefinition): Record<string, unknown> {
  return {
    topic: t.topic,
    direction: t.direction,
    type: t.type,
    ...(t.unit !== undefined ? { unit: t.unit } : {}),
    retained: t.retained,
    schema: t.schema,
    description: t.description,
  };
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function renderDoc(registry: TopicRegistry): Promise<string> {
  const api = (await import('@opensecc/plugin-mqtt-api' as string)) as MqttApiModule;
  const template = await readFile(api.DOC_TEMPLATE_URL, 'utf8');
  return api.renderMqttApiDoc(template, registry.list());
}

export function createMqttCommand(loadRegistry: (io: CliIO) => Promise<TopicRegistry> = assembleTopicRegistry): CliCommand {
  return {
    name: 'mqtt',
    summary: 'the MQTT topic registry (topics --json) and its documentation (docs)',
    help: HELP,
    async run(args, io) {
      const [sub, ...rest] = args;
      if (sub === 'topics') {
        const { json } = parse(rest, { json: { type: 'boolean', default: false } });
        const topics = (await loadRegistry(io)).list();
        if (json) {
          io.stdout.write(`${JSON.stringify(topics.map(topicJson), null, 2)}\n`);
        } else {
          for (const t of topics) {
            io.stdout.write(`${t.topic.padEnd(44)} ${t.direction.padEnd(18)} ${t.type.padEnd(8)} ${(t.unit ?? '').padEnd(6)} ${t.retained ? 'retained' : ''}\n`);
          }
        }
        return 0;
      }
      if (sub === 'docs') {
        const { out, check } = parse(rest, { out: { type: 'string' }, check: { type: 'boolean', default: false } });
        if (check && typeof out !== 'string') throw new UsageError('--check needs --out FILE to compare with');
        const doc = await renderDoc(await loadRegistry(io));
        if (typeof out !== 'string') {
          io.stdout.write(doc);
          return 0;
        }
        if (check) {
          const current = await readFile(out, 'utf8').catch(() => '');
          if (current === doc) return 0;
          io.stderr.write(`${out} is out of date: run npm run docs:mqtt\n`);
          return 1;
        }
        await writeFile(out, doc);
        return 0;
      }
      throw new UsageError(sub === undefined ? 'missing subcommand (topics | docs)' : `unknown subcommand '${sub}'`);
    },
  };
}

export const mqttCommand: CliCommand = createMqttCommand();
