// One site: its latest annotated frame and how old it is (a stale frame looks stale), the
// count over a day with roll calls and alerts marked, the roll-call table (roles that may
// read records; auditors correct from it), its alerts, and for technicians the node's
// report and the live view (POST .../live, then the MJPEG stream in an <img>) and a link to
// the site's counting setup.
import { h, setText, clear } from './dom.js';
import { get, post, can, mayView, enc, ApiError } from './api.js';
import { t, fmtNum, fmtDateTime, fmtHM, ageText, levelLabel, alertLabel, problemLabel, localDate, dayStart,
  fmtBytes, fmtSeconds, cameraState, cameraErrorHint, detectorLabel } from './i18n.js';
import { sites as siteStore, watchSites, serverNow, flagsOf, onEvent } from './data.js';
import { timelineChart, marksLegend } from './chart.js';
import { rollCallTable } from './rollcalls.js';
import { dayInput } from './dayinput.js';

const DAY_MS = 86_400_000;
let chosenDay = null; // kept while moving between sites

export function mount(root, [id]) {
  const T = t();
  let site = siteStore.byId.get(id);
  let latest;          // GET .../latest: undefined while loading, null when none
  let imgSeq = null, chart = null, liveImg = null, liveTimer = 0, dayTimer = 0, loadingDay = false, dayStarted = false;
  const offs = [];

  // ---- Layout ----
  const name = h('h2', { class: 'site-name', attrs: { 'data-testid': 'site-name' } });
  const meta = h('p', 'site-meta');
  const badge = h('span', { class: 'badge', attrs: { 'data-testid': 'site-state' } });
  const frame = h('figure', { class: 'frame', attrs: { 'data-testid': 'latest-frame' } });
  const img = h('img', { alt: T.latestFrame, hidden: true });
  const ageBadge = h('span', { class: 'age', attrs: { 'data-testid': 'frame-age' } });
  const noFrame = h('p', { class: 'noframe', text: T.noFrame, hidden: true });
  const liveBadge = h('span', { class: 'live-badge', text: 'LIVE', hidden: true });
  frame.append(img, noFrame, ageBadge, liveBadge);
  const dl = h('dl', 'facts');
  const facts = {};
  for (const k of ['count', 'frameCount', 'estimate', 'captured', 'age', 'detector', 'health']) {
    facts[k] = h('dd', { attrs: { 'data-testid': `fact-${k}` } });
    dl.append(h('dt', { text: T[k] }), facts[k]);
  }
  facts.frameCount.title = T.frameCountHint;
  // What the headline count and the boxes drawn are, in the page's words (the picture has none).
  const explain = h('p', { class: 'muted small count-explain', attrs: { 'data-testid': 'count-explain' } });
  const liveBtn = h('button', { type: 'button', class: 'primary', text: T.live, attrs: { 'data-testid': 'live-toggle' } });
  const liveMsg = h('p', { class: 'form-error', hidden: true, attrs: { 'data-testid': 'live-msg' } });
  const liveHint = h('small', { class: 'muted', text: T.liveHint });
  const nodeBox = h('div', { class: 'node-report', attrs: { 'data-testid': 'node-report' } });
  // The day shown (YYYY-MM-DD): today unless one was chosen, which stays between sites.
  const today = localDate(serverNow());
  let shownDay = chosenDay ?? today;
  const dayBox = dayInput(shownDay, (iso) => {
    if (!iso) { dayBox.setDay(shownDay); return; }  // emptied: the day shown stays
    shownDay = iso;
    chosenDay = iso === localDate(serverNow()) ? null : iso;
    loadDay();
  }, 'day', { max: today });
  const chartBox = h('div', { class: 'chart', attrs: { 'data-testid': 'timeline' } });
  const chartMsg = h('p', { class: 'muted', hidden: true });
  const rollBox = h('div', { attrs: { 'data-testid': 'site-roll-calls' } });
  const alertBox = h('div', { attrs: { 'data-testid': 'site-alerts' } });
  const back = h('a', { class: 'back', href: `#/${mayView('overview') ? 'overview' : 'cameras'}`, text: `← ${T.back}` });
  const report = can('reports')
    ? h('a', { class: 'button', href: `/api/v1/reports/sites/${enc(id)}.html`, target: '_blank', rel: 'noopener', text: T.siteReport,
      attrs: { 'data-testid': 'site-report' } })
    : null;
  const setupLink = mayView('setup')
    ? h('a', { class: 'button', href: `#/setup/${enc(id)}`, text: T.setupLink, attrs: { 'data-testid': 'site-setup' } })
    : null;

  clear(root, h('section', { class: 'site-page', attrs: { 'data-testid': 'view-site' } },
    h('div', 'site-head', back, h('div', 'site-title', name, badge), meta, report, setupLink),
    h('div', 'site-grid',
      h('div', 'site-left',
        h('section', 'card', frame, explain, dl,
          can('live') ? h('div', 'live-ctl', liveBtn, liveHint, liveMsg) : null),
        can('live') ? h('section', 'card', h('h3', { text: T.nodeTitle }), nodeBox) : null),
      h('div', 'site-right',
        h('section', 'card', h('div', 'card-head', h('h3', { text: T.timeline }), h('span', 'inline', h('span', { text: T.day }), dayBox)),
          chartBox, chartMsg, marksLegend()),
        can('records') ? h('section', 'card', h('h3', { text: T.rollCalls }), rollBox) : null,
        h('section', 'card', h('h3', { text: T.siteAlerts }), alertBox)))));

  // ---- The site's figures, from the shared poll ----
  function renderSite() {
    site = siteStore.byId.get(id);
    if (!site) {
      if (siteStore.at != null) clear(root, h('p', { class: 'muted', text: T.notFound }));
      return;
    }
    const now = serverNow();
    const state = site.state;
    setText(name, site.name);
    setText(meta, `${site.id} · ${site.district} · ${levelLabel(site.school_level, true)} · ${T.expected}: ${fmtNum(site.expected_attendees)}`);
    badge.className = `badge ${state}`;
    setText(badge, T.states[state]);
    const l = site.latest;
    if (l && l.sequence !== imgSeq) loadLatest();
    if (latest === undefined && !l) { latest = null; showFrame(); }
    renderFacts(now);
    if (can('live')) renderNode(now);
    if (!dayStarted) { dayStarted = true; loadDay(); } // the chart needs the expected attendees
  }

  async function loadLatest() {
    imgSeq = site.latest?.sequence; // asked for once per frame, however often the list comes
    try {
      latest = await get(`/api/v1/sites/${enc(id)}/latest`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) latest = null;
      else { imgSeq = null; return; } // again at the next poll
    }
    showFrame();
    renderFacts(serverNow());
  }

  function showFrame() {
    if (liveImg) return;
    noFrame.hidden = latest !== null;
    if (!latest?.frame_url) { img.hidden = true; return; }
    const url = `${latest.frame_url}?seq=${latest.sequence}`;
    if (img.dataset.url === url) return;
    img.dataset.url = url;
    if (latest.width && latest.height) img.style.aspectRatio = `${latest.width} / ${latest.height}`;
    const pre = new Image(); // the old frame stays until the new one is loaded
    pre.onload = () => { if (img.dataset.url === url) { img.src = url; img.hidden = false; } };
    pre.src = url;
  }

  function renderFacts(now) {
    const l = latest ?? site?.latest;
    const age = l ? now - l.captured_at_ms : null;
    // The service says whether the site's latest frame is current; a frame shown from an
    // older answer is as current as that frame.
    const current = l && site?.latest?.sequence === l.sequence ? site.latest.current : false;
    const stale = age != null && !current && !liveImg;
    frame.classList.toggle('stale', stale);
    frame.dataset.stale = stale ? '1' : '0';
    ageBadge.hidden = !l || Boolean(liveImg);
    setText(ageBadge, l ? (stale ? T.staleFrame(ageText(age)) : ageText(age)) : '');
    // A camera at fault: its count is not the room's, and the page says so where it stands.
    const fault = site?.state === 'camera_fault' ? site.problems.filter((p) => p !== 'ok') : [];
    setText(facts.count, !l ? '—' : fault.length
      ? T.countSetAside(fmtNum(l.count), fmtNum(site.expected_attendees), fault.map(problemLabel).join(', '))
      : `${fmtNum(l.count)} / ${fmtNum(site.expected_attendees)}`);
    facts.count.className = fault.length ? 'bad' : '';
    facts.count.dataset.setAside = fault.length ? '1' : '0';
    setText(explain, l?.frame_count != null ? T.countExplain(fmtNum(l.count), fmtNum(l.frame_count)) : '');
    setText(facts.frameCount, l?.frame_count != null ? fmtNum(l.frame_count) : '—');
    setText(facts.captured, l ? fmtDateTime(l.captured_at_ms) : '—');
    setText(facts.age, l ? ageText(age) : '—');
    setText(facts.detector, latest?.detector ? detectorLabel(latest.detector, latest.counted_by) : '—');
    const flags = flagsOf(l?.health);
    setText(facts.health, l ? (flags.length ? flags.map(problemLabel).join(', ') : T.problems.ok) : '—');
    facts.health.className = flags.length ? 'bad' : '';
  }

  function renderNode(now) {
    const n = site.node, r = n?.report ?? {};
    const problems = site.problems;
    const rows = [
      [T.problem, problems.map(problemLabel).join(', ')],
      [T.colHeartbeat, n ? `${fmtDateTime(n.received_at_ms)} (${ageText(now - n.received_at_ms)})` : '—'],
      [T.colCamera, cameraState(r) || '—', cameraErrorHint(r.camera?.last_error)],
      [T.colInterval, r.camera?.interval_s != null ? fmtSeconds(r.camera.interval_s) : '—'],
      [T.colSpool, r.spool ? `${fmtNum(r.spool.items)} ${T.items} · ${fmtBytes(r.spool.bytes)}` : '—'],
      [T.colDrops, n?.items_lost != null ? fmtNum(n.items_lost) : '—'],
      [T.nodeVersion, r.version ?? '—'],
    ];
    nodeBox.replaceChildren(h('dl', 'facts', rows.map(([k, v, hint]) => [h('dt', { text: k }), h('dd', { text: v, title: hint || null })])));
    renderLiveCtl();
  }

  // ---- Live view (technician, admin) ----
  // No capture node connected (the service says `never` or `offline`): there is no live
  // picture to ask for, and the page says so instead of a black box.
  function renderLiveCtl() {
    const noNode = !liveImg && ['never', 'offline'].some((p) => site.problems.includes(p));
    if (noNode) {
      liveBtn.disabled = true;
      liveMsg.textContent = T.noNodeLive;
      liveMsg.dataset.reason = 'no-node';
      liveMsg.hidden = false;
    } else if (liveMsg.dataset.reason === 'no-node') {
      liveBtn.disabled = false;
      liveMsg.hidden = true;
      delete liveMsg.dataset.reason;
    }
  }

  async function startLive() {
    liveBtn.disabled = true;
    liveMsg.hidden = true;
    try {
      const r = await post(`/api/v1/sites/${enc(id)}/live`);
      if (r?.node_connected === false) { // nothing would come: say so, no stream
        liveMsg.textContent = T.noNodeLive;
        liveMsg.dataset.reason = 'no-node';
        liveMsg.hidden = false;
        return;
      }
      if (r?.interval_s) liveHint.textContent = T.liveRate(fmtNum(r.interval_s));
    } catch (e) {
      liveMsg.textContent = e.status === 403 ? (e.code === 'csrf' ? T.csrfError : T.forbiddenApi) : T.requestFailed(e.code);
      liveMsg.hidden = false;
      liveBtn.disabled = false;
      return;
    }
    liveImg = h('img', { class: 'live', alt: T.live, src: `/api/v1/sites/${enc(id)}/live.mjpeg?t=${Date.now()}`,
      attrs: { 'data-testid': 'live-image' } });
    // LIVE only over a picture: from the stream's first frame, not before, not after an error.
    const shown = liveImg;
    liveImg.addEventListener('load', () => { if (liveImg === shown) liveBadge.hidden = false; });
    liveImg.addEventListener('error', () => { if (liveImg === shown) liveBadge.hidden = true; });
    img.hidden = true;
    noFrame.hidden = true;
    frame.prepend(liveImg);
    // The stream keeps the node fast while it is open; asking again now and then is cheap
    // insurance (a proxy that buffers the stream, a service restarted meanwhile).
    liveTimer = setInterval(() => post(`/api/v1/sites/${enc(id)}/live`).catch(() => {}), 30_000);
    frame.classList.add('is-live');
    liveBtn.textContent = T.liveStop;
    liveBtn.disabled = false;
    renderFacts(serverNow());
  }
  function stopLive() {
    if (!liveImg) return;
    clearInterval(liveTimer);
    liveImg.src = ''; // ends the stream: the server frees its place and slows the node down
    liveImg.remove();
    liveImg = null;
    frame.classList.remove('is-live');
    liveBadge.hidden = true;
    liveBtn.textContent = T.live;
    liveHint.textContent = T.liveHint;
    img.dataset.url = '';
    showFrame();
    renderFacts(serverNow());
  }
  liveBtn.addEventListener('click', () => (liveImg ? stopLive() : startLive()));

  // ---- The day: timeline, roll calls, alerts ----
  async function loadDay() {
    if (loadingDay) return;
    loadingDay = true;
    const day = shownDay, from = dayStart(day), to = from + DAY_MS, now = serverNow();
    const rollReq = can('records') ? get(`/api/v1/roll-calls?site=${enc(id)}&date=${enc(day)}`) : Promise.resolve(null);
    const [tl, rc, al] = await Promise.allSettled([timeline(from, Math.min(to, Math.max(now, from + 1))),
      rollReq, get(`/api/v1/alerts?site=${enc(id)}`)]);
    loadingDay = false;
    if (day !== shownDay) return;
    const calls = rc.status === 'fulfilled' && rc.value ? rc.value.roll_calls : [];
    // The service's estimate of the day's latest roll call, by the site's checked pictures.
    const cal = rc.status === 'fulfilled' ? rc.value?.calibration?.[id] : null;
    const est = [...calls].reverse().find((c) => c.estimated != null);
    setText(facts.estimate, cal && est
      ? T.siteEstimate(fmtNum(est.correction?.counted_originally ?? est.counted), fmtNum(est.estimated), fmtNum(cal.checked), fmtHM(est.scheduled_ms))
      : '—');
    const alerts = al.status === 'fulfilled'
      ? al.value.alerts.filter((a) => a.started_ms < to && (a.ended_ms ?? now) >= from) : [];
    const points = tl.status === 'fulfilled' ? tl.value.points ?? [] : [];
    chartMsg.hidden = tl.status === 'fulfilled' && points.length > 0;
    chartMsg.textContent = tl.status === 'fulfilled' ? T.noTimeline : T.timelineUnavailable;
    if (!chart && window.uPlot) chart = timelineChart(chartBox);
    chart?.update({ from, to, points, expected: site?.expected_attendees ?? 0, rollCalls: calls, alerts, now });
    chartBox.dataset.points = String(points.length);
    chartBox.dataset.rollCalls = String(calls.length);
    if (can('records')) {
      if (rc.status === 'fulfilled') clear(rollBox, rollCallTable(calls, { onCorrected: loadDay }));
      else clear(rollBox, h('p', { class: 'form-error', text: T.requestFailed(rc.reason?.code) }));
    }
    renderAlerts(alerts);
  }

  // The service gives at most so many points per request, the oldest first ("truncated"):
  // ask again from after the last one, a few times at most.
  async function timeline(from, to) {
    const out = { points: [] };
    for (let i = 0, start = from; i < 8 && start < to; i++) {
      const r = await get(`/api/v1/sites/${enc(id)}/timeline?from=${start}&to=${to}`);
      out.points.push(...(r.points ?? []));
      if (!r.truncated || !r.points?.length) break;
      start = r.points[r.points.length - 1].t + 1;
    }
    return out;
  }

  function renderAlerts(alerts) {
    if (!alerts.length) { clear(alertBox, h('p', { class: 'muted', text: T.noAlerts })); return; }
    clear(alertBox, h('div', 'table-wrap', h('table', 'data',
      h('thead', null, h('tr', null, [T.colKind, T.colStart, T.colEnd].map((c) => h('th', { text: c, attrs: { scope: 'col' } })))),
      h('tbody', null, [...alerts].reverse().map((a) => h('tr', { dataset: { kind: a.kind } },
        h('td', null, h('span', { class: `badge al-${a.kind}`, text: alertLabel(a.kind) }),
          a.audit_count != null && h('span', { class: 'audited', text: T.audited(a.count ?? '—', a.audit_count) }),
          a.estimated != null && h('span', { class: 'estimated', text: T.alertEstimated(fmtNum(a.count), fmtNum(a.estimated)) })),
        h('td', { text: fmtHM(a.started_ms) }),
        h('td', { text: a.ended_ms ? fmtHM(a.ended_ms) : T.stillOpen })))))));
  }

  // Today's figures grow: reload every 30 s, and at once when a roll call or alert happens here.
  dayTimer = setInterval(() => { if (!document.hidden && shownDay === localDate(serverNow())) loadDay(); }, 30_000);
  const onSiteEvent = (d) => { if (d.site_id === id && shownDay === localDate(serverNow())) loadDay(); };
  offs.push(onEvent('roll_call', onSiteEvent), onEvent('alert_opened', onSiteEvent), onEvent('alert_closed', onSiteEvent));
  offs.push(watchSites(renderSite));
  const tick = setInterval(() => { if (site && !document.hidden) renderFacts(serverNow()); }, 1000);

  return () => {
    stopLive();
    clearInterval(tick);
    clearInterval(dayTimer);
    for (const off of offs) off();
    chart?.destroy();
  };
}
