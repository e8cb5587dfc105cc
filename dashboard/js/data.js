// What several views share: the service's clock and status, the site list (polled while a
// view needs it), the live event stream (one EventSource for the whole page), and what a
// site's figures mean (its state on the overview, its camera's problem for technicians).
import { get } from './api.js';
import { setTimeZone } from './i18n.js';

export const STALE_MS = 60_000;      // a frame older than this is not current
export const NODE_STALE_MS = 75_000; // nodes report every 30 s: two missed reports
export const SHORT_RATIO = 0.8;      // under this share of the expected: short
const POLL_MS = 5000;

// ---- The service's clock (the browser's may be wrong) and status ----
let clockOffset = 0;
export const serverNow = () => Date.now() + clockOffset;
export let status = null;

export async function loadStatus() {
  status = await get('/api/v1/status');
  if (status.server_time_ms) clockOffset = status.server_time_ms - Date.now();
  setTimeZone(status.timezone);
  return status;
}

// ---- Sites: polled every 5 s while any view holds a subscription ----
const siteListeners = new Set(), pollListeners = new Set();
export const sites = { list: [], byId: new Map(), at: null, error: null };
let pollTimer = 0, polling = false;

async function poll() {
  clearTimeout(pollTimer);
  if (polling || document.hidden || siteListeners.size === 0) return;
  polling = true;
  try {
    const data = await get('/api/v1/sites');
    clockOffset = data.server_time_ms - Date.now();
    sites.list = data.sites;
    sites.byId = new Map(data.sites.map((s) => [s.id, s]));
    sites.at = data.server_time_ms;
    sites.error = null;
  } catch (e) {
    sites.error = e;
  } finally {
    polling = false;
    for (const fn of siteListeners) fn(sites);
    for (const fn of pollListeners) fn(sites);
    if (siteListeners.size && !document.hidden) pollTimer = setTimeout(poll, POLL_MS);
  }
}
document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });

// fn(sites) after every poll (and at once when the list is already there). Returns the
// unsubscribe function.
export function watchSites(fn) {
  siteListeners.add(fn);
  if (sites.at != null) fn(sites);
  if (siteListeners.size === 1 || sites.at == null) poll();
  return () => siteListeners.delete(fn);
}

// fn(sites) after every poll, without asking for polls (the page's connection banner).
export function onPoll(fn) { pollListeners.add(fn); }

// ---- Live events (Server-Sent Events at /api/v1/events) ----
// Types: count, node, roll_call, alert_opened, alert_closed, period_summary, reset.
const TYPES = ['count', 'node', 'roll_call', 'alert_opened', 'alert_closed', 'period_summary', 'reset'];
const eventListeners = new Map(TYPES.map((t) => [t, new Set()]));
const connListeners = new Set();
let source = null, wanted = false;
export let eventsConnected = false;

function setConnected(on) {
  if (on === eventsConnected) return;
  eventsConnected = on;
  for (const fn of connListeners) fn(on);
}

export function startEvents() {
  wanted = true;
  if (source) return;
  source = new EventSource('/api/v1/events');
  source.onopen = () => setConnected(true);
  // The browser reconnects by itself (sending Last-Event-ID); a 401 or 503 closes it for good,
  // so retry after a while (a 401 also ends the session on the next API call).
  source.onerror = () => {
    setConnected(false);
    if (source?.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(() => { if (wanted && !source) startEvents(); }, 10_000);
    }
  };
  for (const type of TYPES) {
    source.addEventListener(type, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      if (type === 'count') applyCount(data);
      if (type === 'reset') poll();
      for (const fn of eventListeners.get(type)) fn(data, e);
    });
  }
}
export function stopEvents() {
  wanted = false;
  source?.close();
  source = null;
  setConnected(false);
}
// fn(data) for each event of the type; returns the unsubscribe function.
export function onEvent(type, fn) {
  eventListeners.get(type).add(fn);
  return () => eventListeners.get(type).delete(fn);
}
export function onConnection(fn) {
  connListeners.add(fn);
  return () => connListeners.delete(fn);
}

// A count event updates the site at once, without waiting for the next poll.
function applyCount(d) {
  const s = sites.byId.get(d.site_id);
  if (!s) return;
  s.latest = { ...(s.latest ?? {}), count: d.count, frame_count: d.frame_count, sequence: d.sequence,
    captured_at_ms: d.captured_at_ms, received_at_ms: d.received_at_ms, health: s.latest?.health ?? null };
  for (const fn of siteListeners) fn(sites);
}

// ---- What a site's figures mean ----
export const flagsOf = (health) => (Array.isArray(health?.flags) ? health.flags : []);

// The overview's colour: none (never reported), offline, fault (camera), short, ok.
export function siteState(s, now) {
  const l = s.latest, n = s.node;
  if (!l && !n) return 'none';
  const frameFresh = l && now - l.captured_at_ms <= STALE_MS;
  if (frameFresh) {
    if (flagsOf(l.health).length) return 'fault';
    return l.count >= SHORT_RATIO * s.expected_attendees ? 'ok' : 'short';
  }
  const nodeFresh = n && now - n.received_at_ms <= NODE_STALE_MS;
  if (nodeFresh && (n.report?.state === 'no_frames' || n.report?.camera?.playing === false)) return 'fault';
  if (!l) return nodeFresh ? 'none' : 'offline';
  return 'offline';
}

// A technician's view of a site: its worst problem first, then the others.
export const PROBLEMS = ['offline', 'no_frames', 'dark', 'covered', 'blurred', 'frozen', 'moved', 'never', 'ok'];
export function cameraProblems(s, now) {
  const l = s.latest, n = s.node;
  if (!l && !n) return ['never'];
  const lastSeen = Math.max(l?.received_at_ms ?? 0, n?.received_at_ms ?? 0);
  if (now - lastSeen > STALE_MS) return ['offline'];
  const out = [];
  const frameFresh = l && now - l.captured_at_ms <= STALE_MS;
  if (!frameFresh || n?.report?.state === 'no_frames') out.push('no_frames');
  const health = frameFresh ? l.health : n?.report?.health;
  for (const f of flagsOf(health)) if (PROBLEMS.includes(f) && !out.includes(f)) out.push(f);
  return out.length ? out.sort((a, b) => PROBLEMS.indexOf(a) - PROBLEMS.indexOf(b)) : ['ok'];
}

export const lastSeenMs = (s) => {
  const t = Math.max(s.latest?.received_at_ms ?? 0, s.node?.received_at_ms ?? 0);
  return t || null;
};
