// What both Node peers share: the same SaaS stream pushlab publishes (the
// envelope of docs/PROTOCOL.md §2, built once per event), a bounded history for resume,
// and the subset of pushlab's HTTP API the load runner's scenarios use:
// GET /api/time, GET /api/poll (where the runner learns the stream's head)
// and POST /api/control (set_rate, burst, pause, resume, drop).

const HISTORY = 10_000;
const FIRST_PAGE = 20;

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

const JOBS = ['Export invoices', 'Rebuild search index', 'Send digest', 'Resize images', 'Sync CRM'];
const NOTES = [
  ['mention', 'Ana mentioned you in #billing'],
  ['approval', 'Invoice #88 needs approval'],
  ['alert', 'Disk usage on db-2 is above 90%'],
];

// Cycles through payloads shaped and sized like pushlab's simulator's.
function payload(seq) {
  switch (seq % 4) {
    case 0: {
      const job = (seq >> 2) % 40;
      const progress = (seq * 7) % 101;
      return { type: 'job:update', job_id: `job-${job}`, name: JOBS[job % JOBS.length], progress, state: progress === 100 ? 'done' : 'running' };
    }
    case 1: {
      const [kind, text] = NOTES[seq % NOTES.length];
      return { type: 'notification', kind, text };
    }
    default:
      return { type: 'counter:update', name: 'active_users', value: 100 + (seq % 57) };
  }
}

export class Feed {
  constructor({ token, onEvent, onDrop }) {
    this.epoch = Math.floor(36 ** 6 + Math.random() * (36 ** 7 - 36 ** 6)).toString(36);
    this.seq = 0;
    this.ring = new Array(HISTORY); // entry of seq s at s % HISTORY
    this.token = token;
    this.onEvent = onEvent; // (entry) => void, once per publish
    this.onDrop = onDrop; // () => void: close every connection of this peer
    this.rate = 5;
    this.paused = false;
    this.emitted = 0;
    this.anchor = performance.now();
    this.schedule();
  }

  publish() {
    this.seq += 1;
    const seq = this.seq;
    const id = `${this.epoch}-${seq}`;
    const event = payload(seq);
    const json = JSON.stringify({ id, seq, sent_at_us: nowUs(), event });
    const entry = { seq, id, type: event.type, json };
    this.ring[seq % HISTORY] = entry;
    this.onEvent(entry);
  }

  // Paced like pushlab's simulator: the n-th event is due at anchor + n / rate.
  schedule() {
    clearTimeout(this.timer);
    if (this.paused) return;
    const due = this.anchor + ((this.emitted + 1) * 1000) / this.rate;
    this.timer = setTimeout(() => {
      const owed = Math.floor(((performance.now() - this.anchor) * this.rate) / 1000);
      while (this.emitted < owed) {
        this.publish();
        this.emitted += 1;
      }
      this.schedule();
    }, Math.max(0, due - performance.now()));
  }

  restart() {
    this.emitted = 0;
    this.anchor = performance.now();
    this.schedule();
  }

  // Entries with seq in (from, this.seq].
  range(from) {
    const out = [];
    for (let s = from + 1; s <= this.seq; s++) out.push(this.ring[s % HISTORY]);
    return out;
  }

  // What a client resuming from `after` gets: { reset, entries }.
  since(after) {
    const first = Math.max(1, this.seq - HISTORY + 1);
    const latest = () => this.range(Math.max(first - 1, this.seq - FIRST_PAGE));
    const m = /^([0-9a-z]+)-([0-9]+)$/.exec(after ?? '');
    if (!after) return { reset: null, entries: latest() };
    if (!m) return { error: 'cursor is not a pushlab event id' };
    const seq = Number(m[2]);
    if (m[1] !== this.epoch || seq < first - 1) {
      const missed = m[1] === this.epoch ? first - 1 - seq : null;
      return { reset: { reason: m[1] === this.epoch ? 'expired' : 'epoch', missed }, entries: latest() };
    }
    if (seq > this.seq) return { error: 'cursor is ahead of the stream' };
    return { reset: null, entries: this.range(seq) };
  }

  cursor() {
    return `${this.epoch}-${this.seq}`;
  }

  settings() {
    return { rate_per_s: this.rate, paused: this.paused, delay_ms: 0 };
  }

  // POST /api/control; answers like pushlab's.
  control(req, res) {
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return json(res, req.headers.authorization ? 403 : 401, { error: 'unauthorized', message: 'bad token' });
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      let a;
      try {
        a = JSON.parse(body);
      } catch {
        return json(res, 400, { error: 'bad_json', message: 'expected a JSON action' });
      }
      switch (a.action) {
        case 'set_rate':
          if (!(a.per_s >= 0.1 && a.per_s <= 1000)) return json(res, 400, { error: 'out_of_range', message: 'per_s must be 0.1–1000' });
          this.rate = a.per_s;
          this.restart();
          break;
        case 'burst':
          for (let i = 0; i < Math.min(a.n | 0, 10_000); i++) this.publish();
          break;
        case 'pause':
          this.paused = true;
          clearTimeout(this.timer);
          break;
        case 'resume':
          this.paused = false;
          this.restart();
          break;
        case 'drop':
          this.onDrop();
          break;
        default:
          return json(res, 400, { error: 'bad_action', message: `unsupported action ${a.action}` });
      }
      json(res, 200, this.settings());
    });
  }

  // GET /api/poll: pushlab's short-polling answer, the events spliced as encoded.
  poll(req, res) {
    const after = new URL(req.url, 'http://x').searchParams.get('after');
    const { error, reset, entries } = this.since(after);
    if (error) return json(res, 400, { error: 'bad_cursor', message: error });
    const page = entries.slice(0, 500);
    const cursor = page.length ? page[page.length - 1].id : after || this.cursor();
    const info = reset ? `,"reason":${JSON.stringify(reset.reason)},"missed":${reset.missed}` : '';
    const text = `{"events":[${page.map((e) => e.json).join(',')}],"reset":${!!reset}${info},"cursor":"${cursor}","more":${entries.length > page.length}}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  // The routes both peers share; false when the request is not one of them.
  route(req, res) {
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && path === '/api/time') return json(res, 200, { now_us: nowUs() }), true;
    if (req.method === 'POST' && path === '/api/control') return this.control(req, res), true;
    if (req.method === 'GET' && path === '/api/poll') return this.poll(req, res), true;
    return false;
  }
}

export function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// --addr host:port --token T, as pushlab takes them.
export function args() {
  const a = process.argv.slice(2);
  const get = (name, dflt) => {
    const i = a.indexOf(name);
    return i >= 0 ? a[i + 1] : dflt;
  };
  const [host, port] = get('--addr', '127.0.0.1:3100').split(':');
  return { host, port: Number(port), token: get('--token', 'bench') };
}
