'use strict';
// Training sites monitor: polls /api/v1/sites every 5 s and shows one tile per site.
// All API strings go through textContent (site names come from an editable CSV).

const I18N = {
  vi: {
    locale: 'vi-VN', other: 'English', otherCode: 'en',
    title: 'Giám sát điểm cầu tập huấn', serverTime: 'Giờ máy chủ', loading: 'Đang tải…',
    degraded: 'Cảnh báo: không tải được mô hình YuNet — số đếm đang dùng bộ dò dự phòng (Haar), độ chính xác giảm.',
    summary: (rep, n, cnt, exp) => `${rep}/${n} điểm cầu có tín hiệu · Đếm được ${cnt}/${exp} người`,
    districtSub: (rep, n, cnt, exp) => `${cnt}/${exp} người · ${rep}/${n} điểm có tín hiệu`,
    legend: { ok: 'Đủ (≥ 80%)', short: 'Thiếu (< 80%)', stale: 'Mất tín hiệu (> 60 giây)', none: 'Chưa có dữ liệu' },
    states: { ok: 'Đủ', short: 'Thiếu', stale: 'Mất tín hiệu', none: 'Chưa có dữ liệu' },
    levels: { preschool: ['Mầm non', 'Mầm non'], primary: ['Tiểu học', 'Tiểu học'],
      lower_secondary: ['THCS', 'THCS'], upper_secondary: ['THPT - GDTX', 'THPT - GDTX'] },
    ago: { s: 'giây trước', m: 'phút trước', h: 'giờ trước', d: 'ngày trước' },
    dur: { s: 'giây', m: 'phút', h: 'giờ', d: 'ngày' },
    search: 'Tìm theo mã hoặc tên', district: 'Huyện / thành phố', allDistricts: 'Tất cả huyện / thành phố',
    noMatch: 'Không có điểm cầu nào khớp.', error: (t) => `Không kết nối được máy chủ — đang hiển thị dữ liệu lúc ${t}.`,
    close: 'Đóng', siteId: 'Mã điểm cầu', noFrame: 'Chưa có khung hình', state: 'Trạng thái', count: 'Số người / dự kiến',
    frameCount: 'Thấy trong khung hình này', frameCountHint: 'Số người là số chỗ ngồi có người trong vài phút gần nhất; khung hình đơn lẻ thường bỏ sót người cúi đầu.',
    captured: 'Thời điểm chụp', age: 'Cách đây', detector: 'Bộ dò', level: 'Cấp học',
  },
  en: {
    locale: 'en-GB', other: 'Tiếng Việt', otherCode: 'vi',
    title: 'Training sites monitor', serverTime: 'Server time', loading: 'Loading…',
    degraded: 'Warning: the YuNet model could not be loaded — counts use the fallback detector (Haar), accuracy is reduced.',
    summary: (rep, n, cnt, exp) => `${rep}/${n} sites reporting · ${cnt}/${exp} people counted`,
    districtSub: (rep, n, cnt, exp) => `${cnt}/${exp} people · ${rep}/${n} sites reporting`,
    legend: { ok: 'OK (≥ 80%)', short: 'Short (< 80%)', stale: 'Stale (> 60 s)', none: 'No data yet' },
    states: { ok: 'OK', short: 'Short', stale: 'Stale', none: 'No data yet' },
    levels: { preschool: ['Preschool', 'Preschool'], primary: ['Primary', 'Primary'],
      lower_secondary: ['Lower sec.', 'Lower secondary'],
      upper_secondary: ['Upper sec.', 'Upper secondary & continuing ed.'] },
    ago: { s: 's ago', m: 'min ago', h: 'h ago', d: 'd ago' },
    dur: { s: 's', m: 'min', h: 'h', d: 'd' },
    search: 'Search by ID or name', district: 'District', allDistricts: 'All districts',
    noMatch: 'No matching sites.', error: (t) => `Cannot reach the server — showing data from ${t}.`,
    close: 'Close', siteId: 'Site ID', noFrame: 'No frame yet', state: 'State', count: 'People / expected',
    frameCount: 'Seen in this frame', frameCountHint: 'People is the number of seats occupied over the last minutes; a single frame often misses people looking down.',
    captured: 'Captured', age: 'Age', detector: 'Detector', level: 'School level',
  },
};

const REFRESH_MS = 5000, STALE_MS = 60000, SHORT_RATIO = 0.8;
const $ = (id) => document.getElementById(id);
const st = {
  lang: localStorage.getItem('lang') === 'en' ? 'en' : 'vi', tz: 'Asia/Ho_Chi_Minh',
  sites: [], serverMs: null, at: 0, lastOk: null, key: '', tiles: new Map(), sections: new Map(),
  open: null, opener: null, detail: undefined, imgUrl: '', busy: false, timer: 0,
};
const L = () => I18N[st.lang];
// Server clock advanced by local elapsed time (the browser clock may be wrong).
const now = () => st.serverMs + (performance.now() - st.at);
let fmtDate, fmtNum;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
function setText(e, s) { if (e.textContent !== s) e.textContent = s; }
const fold = (s) => s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd');

function makeFormats() {
  const opts = { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  try { fmtDate = new Intl.DateTimeFormat(L().locale, { ...opts, timeZone: st.tz }); }
  catch { fmtDate = new Intl.DateTimeFormat(L().locale, { ...opts, timeZone: 'Asia/Ho_Chi_Minh' }); }
  fmtNum = new Intl.NumberFormat(L().locale);
}

function stateOf(site, nowMs) {
  const l = site.latest;
  if (!l) return 'none';
  if (nowMs - l.captured_at_ms > STALE_MS) return 'stale';
  return l.count >= SHORT_RATIO * site.expected_attendees ? 'ok' : 'short';
}
// "12 giây trước" / "12 s ago"; short = "12 giây" / "12 s" (for the stale tiles).
function ageText(ms, short = false) {
  const s = Math.max(0, Math.floor(ms / 1000)), a = short ? L().dur : L().ago;
  if (s < 60) return `${s} ${a.s}`;
  if (s < 3600) return `${Math.floor(s / 60)} ${a.m}`;
  if (s < 86400) return `${Math.floor(s / 3600)} ${a.h}`;
  return `${Math.floor(s / 86400)} ${a.d}`;
}
const levelLabel = (code, full) => L().levels[code]?.[full ? 1 : 0] ?? code;

// Static texts marked with data-i18n / data-i18n-label in index.html.
function applyLang() {
  const t = L();
  document.documentElement.lang = st.lang;
  document.title = t.title;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t[e.dataset.i18n];
  for (const e of document.querySelectorAll('[data-i18n-label]')) {
    e.setAttribute('aria-label', t[e.dataset.i18nLabel]);
    if (e.tagName === 'INPUT') e.placeholder = t[e.dataset.i18nLabel] + '…';
  }
  const btn = $('lang');
  btn.textContent = t.other;
  btn.lang = t.otherCode;
  makeFormats();
  render();
  renderPanel();
}

// (Re)create sections and tiles only when the set of sites changes; otherwise update in place.
function build() {
  const key = st.sites.map((s) => `${s.id}\t${s.district}`).join('\n');
  if (key === st.key) return;
  st.key = key;
  st.tiles.clear();
  st.sections.clear();
  const main = $('districts');
  main.replaceChildren();
  for (const s of st.sites) {
    let sec = st.sections.get(s.district);
    if (!sec) {
      const node = el('section', 'district'), h = el('h2'), sub = el('span', 'd-sub'), grid = el('div', 'grid');
      h.append(el('span', 'd-name', s.district), sub);
      node.append(h, grid);
      main.append(node);
      sec = { node, sub, grid };
      st.sections.set(s.district, sec);
    }
    const b = el('button', 'tile');
    b.type = 'button';
    b.dataset.id = s.id;
    const p = { b, id: el('span', 't-id'), level: el('span', 't-level'), name: el('span', 't-name'),
      count: el('span', 't-count'), pct: el('span', 't-pct'), status: el('span', 't-status'), fold: fold(`${s.id} ${s.name}`) };
    const r1 = el('span', 'row'), r3 = el('span', 'row');
    r1.append(p.id, p.level);
    r3.append(p.count, p.pct);
    b.append(r1, p.name, r3, p.status);
    sec.grid.append(b);
    st.tiles.set(s.id, p);
  }
  const sel = $('district'), cur = sel.value;
  sel.replaceChildren(sel.options[0]);
  for (const d of st.sections.keys()) sel.append(new Option(d, d));
  sel.value = st.sections.has(cur) ? cur : '';
}

function render() {
  const t = L();
  if (st.serverMs == null) { setText($('summary'), t.loading); return; }
  const n = now(), nf = (x) => fmtNum.format(x);
  setText($('clock'), `${t.serverTime}: ${fmtDate.format(n)}`);
  $('clock').title = st.tz;
  const all = { rep: 0, n: 0, cnt: 0, exp: 0 }, per = new Map(), totals = { ok: 0, short: 0, stale: 0, none: 0 };
  for (const s of st.sites) {
    const state = stateOf(s, n), l = s.latest, p = st.tiles.get(s.id);
    if (!per.has(s.district)) per.set(s.district, { rep: 0, n: 0, cnt: 0, exp: 0 });
    totals[state]++;
    // Only fresh observations count towards totals; a stale count is not current.
    for (const g of [all, per.get(s.district)]) {
      g.n++;
      g.exp += s.expected_attendees;
      if (state === 'ok' || state === 'short') { g.rep++; g.cnt += l.count; }
    }
    const cls = `tile ${state}`;
    if (p.b.className !== cls) p.b.className = cls;
    setText(p.id, s.id);
    setText(p.level, levelLabel(s.school_level));
    p.level.title = levelLabel(s.school_level, true);
    setText(p.name, s.name);
    p.name.title = s.name;
    setText(p.count, `${l ? nf(l.count) : '—'} / ${nf(s.expected_attendees)}`);
    // A stale tile shows how old its frame is where the percentage would be.
    const pct = l && s.expected_attendees > 0 ? `${Math.round((100 * l.count) / s.expected_attendees)}%` : '';
    setText(p.pct, state === 'stale' ? ageText(n - l.captured_at_ms, true) : pct);
    setText(p.status, state === 'none' || state === 'stale' ? t.states[state] : ageText(n - l.captured_at_ms));
  }
  setText($('summary'), t.summary(all.rep, all.n, nf(all.cnt), nf(all.exp)));
  for (const [d, g] of per) setText(st.sections.get(d).sub, t.districtSub(g.rep, g.n, nf(g.cnt), nf(g.exp)));
  for (const k in totals) setText($(`n-${k}`), `${t.legend[k]}: ${totals[k]}`);
  applyFilter();
}

function applyFilter() {
  const q = fold($('q').value.trim()), d = $('district').value;
  let any = false;
  for (const [name, sec] of st.sections) {
    let shown = 0;
    if (!d || d === name) {
      for (const tile of sec.grid.children) {
        const hide = q !== '' && !st.tiles.get(tile.dataset.id).fold.includes(q);
        if (tile.hidden !== hide) tile.hidden = hide;
        if (!hide) shown++;
      }
    }
    sec.node.hidden = shown === 0;
    if (shown > 0) any = true;
  }
  $('nomatch').hidden = any || st.serverMs == null;
}

// Give up on a request after 8 s so a hung connection cannot stall the polling loop.
const get = (url) => fetch(url, { cache: 'no-store', signal: AbortSignal.timeout?.(8000) });
async function getJSON(url) {
  const r = await get(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

async function refresh() {
  clearTimeout(st.timer);
  if (st.busy || document.hidden) return; // resumed by visibilitychange
  st.busy = true;
  try {
    const [status, data] = await Promise.all([getJSON('/api/v1/status'), getJSON('/api/v1/sites')]);
    const det = status.detector || {};
    $('degraded').hidden = !det.degraded;
    setText($('degraded-msg'), det.message || '');
    if (status.timezone && status.timezone !== st.tz) { st.tz = status.timezone; makeFormats(); }
    st.sites = data.sites;
    st.serverMs = st.lastOk = data.server_time_ms;
    st.at = performance.now();
    $('error').hidden = true;
    build();
    render();
    if (st.open) await loadDetail();
  } catch (err) {
    console.warn(err);
    const e = $('error');
    e.textContent = L().error(st.lastOk == null ? '—' : fmtDate.format(st.lastOk));
    e.hidden = false;
  } finally {
    st.busy = false;
    if (!document.hidden) st.timer = setTimeout(refresh, REFRESH_MS);
  }
}

// ---- Detail panel ----
async function loadDetail() {
  const id = st.open;
  try {
    const r = await get(`/api/v1/sites/${encodeURIComponent(id)}/latest`);
    if (id !== st.open) return;
    if (r.status === 404) st.detail = null;
    else if (r.ok) st.detail = await r.json();
    else return; // keep the last detail
  } catch { return; }
  renderPanel();
}

function renderPanel() {
  const site = st.sites.find((s) => s.id === st.open);
  if (!site) return;
  const t = L(), d = st.detail, img = $('p-img');
  setText($('p-name'), site.name);
  setText($('p-id'), site.id);
  setText($('p-district'), site.district);
  setText($('p-level'), levelLabel(site.school_level, true));
  setText($('p-state'), t.states[stateOf(site, now())]);
  // Panel-specific data comes from /latest; fall back to the list while it loads.
  const l = d || site.latest;
  setText($('p-count'), `${l ? fmtNum.format(l.count) : '—'} / ${fmtNum.format(site.expected_attendees)}`);
  setText($('p-frame-count'), l && l.frame_count !== undefined ? fmtNum.format(l.frame_count) : '—');
  $('p-frame-count').title = t.frameCountHint;
  setText($('p-captured'), l ? fmtDate.format(l.captured_at_ms) : '—');
  setText($('p-age'), l ? ageText(now() - l.captured_at_ms) : '—');
  setText($('p-detector'), d?.detector ?? '—');
  $('p-noframe').hidden = d !== null;
  if (!d?.frame_url) { img.hidden = true; st.imgUrl = ''; return; }
  const url = `${d.frame_url}${d.frame_url.includes('?') ? '&' : '?'}seq=${d.sequence}`;
  if (url === st.imgUrl) return;
  st.imgUrl = url;
  const pre = new Image(); // swap only once loaded, so the old frame stays until then
  pre.onload = () => { if (st.imgUrl === url) { img.src = url; img.hidden = false; } };
  pre.src = url;
  if (d.width && d.height) img.style.aspectRatio = `${d.width} / ${d.height}`;
}

function openPanel(id, opener) {
  if (st.open !== id) { st.detail = undefined; st.imgUrl = ''; $('p-img').hidden = true; }
  st.open = id;
  st.opener = opener;
  $('panel').hidden = false;
  renderPanel();
  $('p-close').focus();
  loadDetail();
}
function closePanel() {
  if (!st.open) return;
  st.open = null;
  $('panel').hidden = true;
  st.opener?.focus();
}

// ---- Wiring ----
$('districts').addEventListener('click', (e) => {
  const tile = e.target.closest('.tile');
  if (tile) openPanel(tile.dataset.id, tile);
});
$('p-close').addEventListener('click', closePanel);
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closePanel(); });
$('q').addEventListener('input', applyFilter);
$('district').addEventListener('change', applyFilter);
$('lang').addEventListener('click', () => {
  st.lang = st.lang === 'vi' ? 'en' : 'vi';
  localStorage.setItem('lang', st.lang);
  applyLang();
});
document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
setInterval(() => { if (!document.hidden) { render(); if (st.open) renderPanel(); } }, 1000);

applyLang();
refresh();
