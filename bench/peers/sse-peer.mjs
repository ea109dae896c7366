// The Node.js peer for Server-Sent Events: plain `node:http`, speaking
// pushlab's /api/sse (retry, id/event/data, keep-alive comments, resume from
// Last-Event-ID or `after`). Each event's frame is built once and the same
// Buffer is written to every stream.
import http from 'node:http';
import { Feed, args, json } from './feed.mjs';

const { host, port, token } = args();
const streams = new Set();

const frame = (entry) => Buffer.from(`id: ${entry.id}\nevent: ${entry.type}\ndata: ${entry.json}\n\n`);

const feed = new Feed({
  token,
  onEvent(entry) {
    if (streams.size === 0) return;
    const bytes = frame(entry);
    for (const res of streams) res.write(bytes);
  },
  onDrop() {
    for (const res of streams) res.end();
    streams.clear();
  },
});

function sse(req, res) {
  const after = req.headers['last-event-id'] ?? new URL(req.url, 'http://x').searchParams.get('after');
  const { error, reset, entries } = feed.since(after);
  if (error) return json(res, 400, { error: 'bad_cursor', message: error });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n\n');
  if (reset) {
    const cursor = entries.length ? `${feed.epoch}-${entries[0].seq - 1}` : feed.cursor();
    res.write(`id: ${cursor}\nevent: reset\ndata: ${JSON.stringify({ ...reset, cursor })}\n\n`);
  }
  for (const e of entries) res.write(frame(e));
  streams.add(res);
  req.on('close', () => streams.delete(res));
}

const server = http.createServer((req, res) => {
  if (feed.route(req, res)) return;
  if (req.method === 'GET' && req.url.split('?')[0] === '/api/sse') return sse(req, res);
  json(res, 404, { error: 'not_found', message: 'no such route' });
});
// Streams stay open; Node's default 5 s keep-alive and request timeouts are for requests, not these.
server.requestTimeout = 0;
setInterval(() => {
  for (const res of streams) res.write(': keep-alive\n\n');
}, 15_000).unref();

server.listen(port, host, () => console.log(`sse peer on http://${host}:${port} (epoch ${feed.epoch})`));
