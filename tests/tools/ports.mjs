// Local TCP ports for the servers the tests and the benchmark start.
import { once } from 'node:events';
import net from 'node:net';

/** A TCP port nobody is listening on right now. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export async function portIsFree(port) {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    server.close();
    await once(server, 'close');
    return true;
  } catch {
    return false;
  }
}
