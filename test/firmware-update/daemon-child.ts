// The firmware-update plugin in its own process, so that a test can kill it with SIGKILL (a power
// cut as far as the plugin can tell). argv: JSON {dataDir, config, url}. Prints one JSON line per
// bus event under firmware/#.
import { requestUpdate, startPlugin } from './harness.js';

const { dataDir, config, url } = JSON.parse(process.argv[2] ?? '{}') as { dataDir: string; config: Record<string, unknown>; url: string };
const running = await startPlugin({ dataDir, config });
running.bus.subscribe('firmware/#', (message) => {
  process.stdout.write(JSON.stringify({ topic: message.topic, value: message.value }) + '\n');
});
requestUpdate(running, url);
