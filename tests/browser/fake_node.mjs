// Capture nodes in miniature for the browser tests: signed heartbeats and frames exactly as
// a real node sends them (protocol/signing.h, protocol/wire.h), with the camera problems, spool
// backlogs and drops a test wants the dashboard to show. attendance-sim covers the ordinary
// sites; this covers what attendance-sim does not send (heartbeats, health flags).
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha256 = (body) => createHash('sha256').update(body).digest('hex');

export class FakeNode {
  // keysFile: the service's site keys CSV (site_id,secret).
  constructor(base, keysFile) {
    this.base = base;
    this.keys = new Map();
    for (const line of readFileSync(keysFile, 'utf8').split(/\r?\n/)) {
      const [site, secret] = line.split(',');
      if (site && secret && site !== 'site_id') this.keys.set(site.trim(), secret.trim());
    }
    this.sequence = Date.now() * 1000; // above anything attendance-sim numbered
  }

  // Sends a signed upload; an answer other than `expect` (200 or 201 by default) throws.
  async send(path, site, capturedMs, extra, body, contentType, extraHeader, expect = 200) {
    const secret = this.keys.get(site);
    if (!secret) throw new Error(`no key for site ${site}`);
    const seq = String(this.sequence++), time = String(Math.round(capturedMs));
    // protocol/signing.h
    const canonical =
      `attendance-v2\n${path}\n${contentType}\n${site}\n${seq}\n${time}\n${extra}\n${sha256(body)}`;
    const headers = {
      'Content-Type': contentType, 'X-Site-Id': site, 'X-Sequence': seq, 'X-Capture-Time': time,
      'X-Signature': createHmac('sha256', secret).update(canonical).digest('hex'),
    };
    if (extra !== '') headers[extraHeader] = extra;
    const r = await fetch(this.base + path, { method: 'POST', headers, body });
    const text = await r.text();
    if (r.status !== expect && (expect !== 200 || r.status !== 201)) throw new Error(`${path} ${site}: HTTP ${r.status} ${text}`);
    return JSON.parse(text);
  }

  // A count (protocol/node_count.h) from a model the service does not accept: refused, 422.
  countFromUnknownModel(site) {
    const count = { count: 20, frame_count: 20, boxes: [], width: 1280, height: 720, model: 'yolo-people',
      model_sha256: ['b'.repeat(64)], detector_ms: 40, frames_counted: 5, frames_skipped: 0, rate_hz: 1,
      setup_version: 0, health: null };
    return this.send('/api/v1/counts', site, Date.now(), '', JSON.stringify(count), 'application/json', '', 422);
  }

  // A heartbeat as capture/capture_node.cpp writes it; `over` replaces parts of the report.
  heartbeat(site, { capturedMs = Date.now(), dropped = 0, state = 'ok', camera = {}, health = null, spool = {}, counters = {} } = {}) {
    const report = {
      state,
      camera: { playing: true, last_frame_ms: capturedMs - 2000, last_frame_age_s: 2, pipeline_starts: 1, last_error: '', interval_s: 5, ...camera },
      health,
      spool: { items: 0, bytes: 0, max_bytes: 4294967296, dropped: 0, ...spool },
      counters: { frames: 100, spooled: 100, spool_failed: 0, queue_dropped: 0, stored: 100, duplicates: 0, rejected: 0, ...counters },
      version: 'browser-test', uptime_s: 600,
    };
    return this.send('/api/v1/health', site, capturedMs, dropped ? String(dropped) : '', JSON.stringify(report),
      'application/json', 'X-Spool-Dropped');
  }

  // A frame with the node's health scores of it (X-Health); flags such as ["dark"].
  frame(site, jpeg, { capturedMs = Date.now(), flags = [] } = {}) {
    const dark = flags.includes('dark');
    const health = JSON.stringify({ brightness: dark ? 4.2 : 118.5, sharpness: dark ? 1.1 : 240.3, change: 3.2,
      uniform_share: dark ? 0.97 : 0.08, flags });
    return this.send('/api/v1/frames', site, capturedMs, health, jpeg, 'image/jpeg', 'X-Health');
  }
}
