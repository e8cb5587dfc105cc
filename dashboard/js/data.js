// What several views share: the service's clock and status, the site list (polled while a
// view needs it), the live event stream (one EventSource for the whole page). A site's state,
// its camera's problems and the live totals come computed from the service.
import { get } from './api.js';
import { setTimeZone } from './i18n.js';

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
export const sites = { list: [], byId: new Map(), totals: null, classNow: null, at: null, error: null };
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
    sites.totals = data.totals;
    sites.classNow = data.class ?? null;
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

// A count event updates the site's figures at once (a frame just counted is current); its
// state and the totals come with the next poll.
function applyCount(d) {
  const s = sites.byId.get(d.site_id);
  if (!s) return;
  s.latest = { ...(s.latest ?? {}), count: d.count, frame_count: d.frame_count, sequence: d.sequence,
    captured_at_ms: d.captured_at_ms, received_at_ms: d.received_at_ms, health: s.latest?.health ?? null, current: true };
  for (const fn of siteListeners) fn(sites);
}

// ---- What a site's figures mean (computed by the service: analysis/domain/site_state.h) ----
export const flagsOf = (health) => (Array.isArray(health?.flags) ? health.flags : []);

// The problems a camera can have, worst first (the order the service sorts them in).
export const PROBLEMS = ['offline', 'refused', 'no_frames', 'dark', 'covered', 'blurred', 'frozen', 'moved', 'never', 'ok'];

export const lastSeenMs = (s) => {
  const t = Math.max(s.latest?.received_at_ms ?? 0, s.node?.received_at_ms ?? 0);
  return t || null;
};
