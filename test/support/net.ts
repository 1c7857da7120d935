/** Free loopback ports for the servers a test starts (MQTT broker, FTP, SDP of a daemon). */
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A free UDP port on ::1, for SDP, so that a daemon answers only its own test's EV. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
