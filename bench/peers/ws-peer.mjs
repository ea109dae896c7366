// The Node.js peer for WebSocket: the `ws` package as its README shows it,
// speaking pushlab's /api/ws (resume, ping → pong, event and reset frames).
// Each event's frame is built once and the same Buffer goes to every socket.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { Feed, args, json } from './feed.mjs';

const { host, port, token } = args();
const live = new Set(); // sockets that have sent `resume`

// A Buffer is sent as a binary frame unless told otherwise.
const TEXT = { binary: false };
const frame = (entry) => Buffer.from(`{"type":"event",${entry.json.slice(1)}`);

const feed = new Feed({
  token,
  onEvent(entry) {
    if (live.size === 0) return;
    const bytes = frame(entry);
    for (const ws of live) ws.send(bytes, TEXT);
  },
  onDrop() {
    for (const ws of wss.clients) ws.close(1012, 'dropped by the instructor');
  },
});

const server = http.createServer((req, res) => {
  if (!feed.route(req, res)) json(res, 404, { error: 'not_found', message: 'no such route' });
});
const wss = new WebSocketServer({ server, path: '/api/ws', maxPayload: 64 * 1024 });

wss.on('connection', (ws) => {
  ws.on('message', (data, binary) => {
    let msg;
    try {
      msg = binary ? null : JSON.parse(data);
    } catch {}
    if (!msg || typeof msg !== 'object') return ws.send('{"type":"error","message":"expected a JSON message tagged by type"}');
    if (msg.type === 'ping') return ws.send(JSON.stringify({ type: 'pong', nonce: msg.nonce }));
    if (msg.type !== 'resume') return ws.send('{"type":"error","message":"unsupported message type"}');
    const { error, reset, entries } = feed.since(msg.after);
    if (error) return ws.send(JSON.stringify({ type: 'error', message: error }));
    if (reset) {
      const cursor = entries.length ? `${feed.epoch}-${entries[0].seq - 1}` : feed.cursor();
      ws.send(JSON.stringify({ type: 'reset', ...reset, cursor }));
    }
    for (const e of entries) ws.send(frame(e), TEXT);
    live.add(ws);
  });
  ws.on('close', () => live.delete(ws));
  ws.on('error', () => live.delete(ws));
});

server.listen(port, host, () => console.log(`ws peer on http://${host}:${port} (epoch ${feed.epoch})`));
