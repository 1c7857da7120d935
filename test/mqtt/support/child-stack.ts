/** Runs the stack with the MQTT API in its own process (argv[2] = broker URL), for the kill -9 test. */
import { startStack } from './stack.js';

const stack = await startStack(process.argv[2]!);
await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30); // stay until killed
