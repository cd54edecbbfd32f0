/**
 * The HTTP floor: a bare node:http server that reads each request's body and answers a canned
 * JSON response (FLOOR_BODY, captured from the real service), with the service's headers. Nothing
 * a real handler could do is cheaper; run in its own process, like the service.
 */
import http from 'node:http';

const port = Number(process.env.FLOOR_PORT);
const body = Buffer.from(process.env.FLOOR_BODY ?? '{}');
if (!Number.isInteger(port) || port <= 0) throw new Error('FLOOR_PORT must be a port number');

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': body.length,
      'X-Request-Id': 'req_benchmarkfloor000000',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
// The bench holds our stdin open: should it die without stopping us, stdin ends.
process.stdin.on('end', stop).resume();
