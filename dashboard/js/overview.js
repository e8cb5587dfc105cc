// Organizer's overview: every site as a tile grouped by district (count / expected, coloured
// by state), totals by district and by school level, the live alert feed, filters and
// search. A tile opens the site's page. States and totals are the service's (GET
// /api/v1/sites: each site's state, and the live totals of the current frames).
import { h, setText, fold, clear } from './dom.js';
import { get } from './api.js';
import { t, fmtNum, fmtPct, fmtHM, fmtDate, ageText, levelLabel, alertLabel, periodLabel } from './i18n.js';
import { sites as siteStore, watchSites, serverNow, onEvent, onConnection, eventsConnected, flagsOf, status } from './data.js';

const STATES = ['ok', 'short', 'offline', 'camera_fault', 'no_data', 'no_class'];
const LEVELS = ['preschool', 'primary', 'lower_secondary', 'upper_secondary'];
const FEED_MAX = 40;
// Filters outlive a visit to a site page and a change of language.
const filter = { q: '', district: '', level: '', state: '' };

export function mount(root) {
  const T = t();
  const tiles = new Map();    // site id -> tile parts
  const sections = new Map(); // district -> {node, sub, grid}
  const feed = new Map();     // alert key -> {data, open, live}
  let key = '';

  // ---- Layout ----
  const summary = h('p', { class: 'summary', attrs: { 'aria-live': 'polite' }, text: T.loading });
  const classLine = h('p', { class: 'class-now', attrs: { 'data-testid': 'class-now' } });
  const attentionList = h('ul', { class: 'attention-list', attrs: { 'data-testid': 'attention' } });
  const attention = h('section', { class: 'card attention', attrs: { 'aria-labelledby': 'attention-h' } },
    h('h2', { id: 'attention-h', text: T.attention }), attentionList);
  const legend = h('ul', 'legend', STATES.map((s) => h('li', { class: s },
    h('button', { type: 'button', class: 'legend-btn', dataset: { state: s }, on: { click: () => {
      filter.state = filter.state === s ? '' : s;
      stateSel.value = filter.state;
      applyFilter();
    } } }, h('span', { dataset: { count: s } })))));
  const q = h('input', { type: 'search', value: filter.q, autocomplete: 'off', placeholder: `${T.search}…`,
    attrs: { 'aria-label': T.search, 'data-testid': 'search' } });
  const districtSel = h('select', { attrs: { 'aria-label': T.district, 'data-testid': 'district-filter' } },
    h('option', { value: '', text: T.allDistricts }));
  const levelSel = h('select', { attrs: { 'aria-label': T.level, 'data-testid': 'level-filter' } },
    h('option', { value: '', text: T.allLevels }), LEVELS.map((l) => h('option', { value: l, text: levelLabel(l, true) })));
  const stateSel = h('select', { attrs: { 'aria-label': T.state, 'data-testid': 'state-filter' } },
    h('option', { value: '', text: T.allStates }), STATES.map((s) => h('option', { value: s, text: T.states[s] })));
  levelSel.value = filter.level;
  stateSel.value = filter.state;
  const districts = h('div', { class: 'districts', attrs: { 'data-testid': 'districts' } });
  const nomatch = h('p', { class: 'nomatch', text: T.noMatch, hidden: true });
  const feedList = h('ol', { class: 'feed-list', attrs: { 'data-testid': 'alert-feed' } });
  const feedEmpty = h('p', { class: 'muted', text: T.noAlerts });
  const feedLive = h('span', { class: 'live-dot' });
  const byDistrict = h('tbody'), byLevel = h('tbody');
  const totalsTable = (caption, body, testid) => h('table', { class: 'data totals', attrs: { 'data-testid': testid } },
    h('caption', { text: caption }),
    h('thead', null, h('tr', null, [T.colGroup, T.colSites, T.colCount, T.colRate].map((c, i) =>
      h('th', { class: i ? 'num' : null, text: c, title: i === 1 ? T.colSitesHint : null, attrs: { scope: 'col' } })))), body);

  clear(root, h('section', { class: 'overview', attrs: { 'data-testid': 'view-overview' } },
    h('div', 'toolbar', h('div', 'toolbar-main', classLine, summary, legend),
      h('div', 'filters', q, districtSel, levelSel, stateSel)),
    attention,
    h('div', 'ov-grid',
      h('div', 'ov-main', districts, nomatch),
      h('aside', 'ov-side',
        h('section', { class: 'card feed', attrs: { 'aria-labelledby': 'feed-h' } },
          h('h2', { id: 'feed-h' }, feedLive, T.alertsFeed), feedEmpty, feedList),
        h('section', 'card', h('h2', { text: T.totals }), totalsTable(T.byDistrict, byDistrict, 'totals-district'), totalsTable(T.byLevel, byLevel, 'totals-level'),
          h('p', { class: 'muted small', text: T.rateBase, attrs: { 'data-testid': 'rate-base' } }))))));

  // ---- Tiles: rebuilt only when the set of sites changes, updated in place otherwise ----
  function build(list) {
    const k = list.map((s) => `${s.id}\t${s.district}`).join('\n');
    if (k === key) return;
    key = k;
    tiles.clear();
    sections.clear();
    districts.replaceChildren();
    for (const s of list) {
      let sec = sections.get(s.district);
      if (!sec) {
        const node = h('section', { class: 'district', dataset: { district: s.district } });
        const sub = h('span', 'd-sub'), grid = h('div', 'grid');
        node.append(h('h2', null, h('span', { class: 'd-name', text: s.district }), sub), grid);
        districts.append(node);
        sec = { node, sub, grid };
        sections.set(s.district, sec);
      }
      const p = { a: h('a', { class: 'tile', href: `#/site/${encodeURIComponent(s.id)}`, dataset: { id: s.id } }),
        id: h('span', 't-id'), level: h('span', 't-level'), name: h('span', 't-name'), count: h('span', 't-count'),
        pct: h('span', 't-pct'), status: h('span', 't-status'), fold: fold(`${s.id} ${s.name}`), site: s };
      p.a.append(h('span', 'row', p.id, p.level), p.name, h('span', 'row', p.count, p.pct), p.status);
      sec.grid.append(p.a);
      tiles.set(s.id, p);
    }
    const cur = districtSel.value || filter.district;
    districtSel.replaceChildren(districtSel.options[0]);
    for (const d of sections.keys()) districtSel.append(h('option', { value: d, text: d }));
    districtSel.value = sections.has(cur) ? cur : '';
    renderFeed(); // now with the sites' names
  }

  function render() {
    const list = siteStore.list;
    if (!list.length) return;
    build(list);
    const now = serverNow(), nf = fmtNum;
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const s of list) {
      const state = s.state, l = s.latest, p = tiles.get(s.id);
      p.site = s;
      p.state = state;
      counts[state]++;
      const cls = `tile ${state}`;
      if (p.a.className !== cls) p.a.className = cls;
      p.a.dataset.state = state;
      setText(p.id, s.id);
      setText(p.level, levelLabel(s.school_level));
      p.level.title = levelLabel(s.school_level, true);
      setText(p.name, s.name);
      p.name.title = s.name;
      setText(p.count, `${l ? nf(l.count) : '—'} / ${nf(s.expected_attendees)}`);
      // A camera at fault's count is set aside by the service (out of the totals): greyed, no rate.
      const aside = state === 'camera_fault';
      p.count.classList.toggle('nodata', !l || aside);
      const pct = l && !aside && s.expected_attendees > 0 ? `${Math.round((100 * l.count) / s.expected_attendees)}%` : '';
      // An offline tile shows how old its frame is where the percentage would be.
      setText(p.pct, state === 'offline' && l ? ageText(now - l.captured_at_ms, true) : pct);
      let st = '';
      if (state === 'camera_fault') st = `${T.states.camera_fault}: ${faultText(s)}`;
      else if (!l || state === 'offline' || state === 'no_data' || state === 'no_class') st = T.states[state];
      else st = ageText(now - l.captured_at_ms);
      setText(p.status, st);
    }
    // The totals: sites with a current frame / all, people counted in them / all expected.
    const totals = siteStore.totals;
    if (totals) {
      const p = totals.province;
      const rate = (g) => (g.expected_counted ? fmtPct(g.rate) : '—');
      setText(summary, T.summary(p.sites_counted, p.sites, nf(p.counted), nf(p.expected_counted), rate(p), nf(p.expected)));
      for (const g of totals.by_district) {
        const sec = sections.get(g.group);
        if (sec) setText(sec.sub, T.districtSub(g.sites_counted, g.sites, nf(g.counted), nf(g.expected_counted), rate(g)));
      }
      renderTotals(byDistrict, totals.by_district, (d) => d, p);
      renderTotals(byLevel, totals.by_level, (l) => levelLabel(l, true), p);
    }
    renderClass();
    renderAttention(list);
    const rules = status?.site_state;
    for (const s of STATES) {
      setText(legend.querySelector(`[data-count="${s}"]`), `${rules ? T.legend[s](rules) : T.states[s]}: ${counts[s]}`);
    }
    applyFilter({ feed: false }); // states change the state filter's tiles; the feed has its own events
  }

  // Whether a class is on, and when the next begins: the service's (GET /api/v1/sites `class`).
  function renderClass() {
    const c = siteStore.classNow;
    if (!c) return setText(classLine, '');
    const when = (p) => `${fmtDate(p.start_ms)} ${fmtHM(p.start_ms)}`;
    const next = c.next ? T.classNext(periodLabel(c.next.period), when(c.next)) : T.classNoNext;
    const text = c.period
      ? `${T.classNow(periodLabel(c.period.period), fmtHM(c.period.start_ms), fmtHM(c.period.end_ms), c.sites_in_class)} · ${next}`
      : `${T.classNone} ${next}`;
    setText(classLine, text);
    classLine.classList.toggle('on', !!c.period);
    classLine.dataset.inClass = c.period ? '1' : '0';
  }

  // Sites that need a call, worst first: the service's states, then open alerts of the record.
  const WORST = ['offline', 'camera_fault', 'short'];
  const ATTENTION_MAX = 12; // then "and N more", so that a province-wide outage stays one line
  let attentionAll = false;
  function renderAttention(list) {
    const need = new Map(); // site id -> reasons
    for (const s of list) if (WORST.includes(s.state)) need.set(s.id, [s.state]);
    for (const f of feed.values()) {
      if (!f.open || !siteStore.byId.has(f.data.site_id)) continue;
      const why = need.get(f.data.site_id) ?? [];
      const kind = f.data.kind === 'under_attendance' ? 'short' : f.data.kind;
      if (!why.includes(kind)) why.push(kind);
      need.set(f.data.site_id, why);
    }
    const rankOf = (w) => { const i = WORST.indexOf(w); return i < 0 ? WORST.length : i; };
    for (const why of need.values()) why.sort((a, b) => rankOf(a) - rankOf(b));
    const items = [...need.entries()].sort((a, b) => rankOf(a[1][0]) - rankOf(b[1][0]) || a[0].localeCompare(b[0]));
    const k = `${attentionAll}|${items.map(([id, why]) => `${id}:${why.join(',')}`).join(' ')}`;
    if (attentionList.dataset.key === k) return;
    attentionList.dataset.key = k;
    const max = window.matchMedia('(max-width: 640px)').matches ? 4 : ATTENTION_MAX;
    const shown = attentionAll ? items : items.slice(0, max);
    const more = items.length - shown.length;
    attentionList.replaceChildren(...(items.length ? shown.map(([id, why]) => {
      const s = siteStore.byId.get(id);
      return h('li', { class: `att-item ${why[0]}`, dataset: { site: id } },
        h('a', { href: `#/site/${encodeURIComponent(id)}` },
          h('strong', { text: id }), h('span', { class: 'att-name', text: ` ${s.name}` }), ' · ', h('span', { class: 'att-why', text: why.map((w) => T.attentionWhy[w] ?? w).join(', ') })));
    }) : [h('li', { class: 'muted', text: T.attentionNone })]),
    ...(more > 0 ? [h('li', 'att-more', h('button', { type: 'button', class: 'link', text: T.attentionMore(more),
      attrs: { 'data-testid': 'attention-more' }, on: { click: () => { attentionAll = true; renderAttention(siteStore.list); } } }))] : []));
  }

  function faultText(s) {
    const flags = flagsOf(s.latest?.health);
    if (flags.length) return flags.map((f) => T.problems[f] ?? f).join(', ');
    return T.problems.no_frames;
  }

  function renderTotals(tbody, groups, label, all) {
    const row = (name, g, cls) => h('tr', cls, h('th', { text: name, attrs: { scope: 'row' } }),
      h('td', { class: 'num', text: `${g.sites_counted}/${g.sites}` }),
      h('td', { class: 'num', text: `${fmtNum(g.counted)} / ${fmtNum(g.expected_counted)}` }),
      h('td', { class: 'num', text: g.expected_counted ? fmtPct(g.rate) : '—' }));
    tbody.replaceChildren(...groups.map((g) => row(label(g.group), g)), row(T.province, all, 'total'));
  }

  function matches(s) {
    const fq = fold(filter.q.trim());
    return (!filter.district || s.district === filter.district) && (!filter.level || s.school_level === filter.level) &&
      (!fq || fold(`${s.id} ${s.name}`).includes(fq));
  }

  function applyFilter({ feed = true } = {}) {
    let any = false;
    for (const [name, sec] of sections) {
      let shown = 0;
      for (const tile of sec.grid.children) {
        const p = tiles.get(tile.dataset.id);
        const hide = !matches(p.site) || (filter.state !== '' && p.state !== filter.state);
        if (tile.hidden !== hide) tile.hidden = hide;
        if (!hide) shown++;
      }
      sec.node.hidden = shown === 0 || (filter.district !== '' && filter.district !== name);
      if (!sec.node.hidden) any = true;
    }
    nomatch.hidden = any || !siteStore.list.length;
    for (const b of legend.querySelectorAll('.legend-btn')) b.setAttribute('aria-pressed', String(b.dataset.state === filter.state));
    if (feed) renderFeed();
  }

  // ---- The alert feed: open alerts at first, then what the event stream brings ----
  const feedKey = (d) => `${d.site_id}/${d.kind}/${d.started_ms}`;
  function renderFeed() {
    const items = [...feed.values()].filter((f) => {
      const s = siteStore.byId.get(f.data.site_id);
      return !s || matches(s);
    }).sort((a, b) => b.at - a.at).slice(0, FEED_MAX);
    feedEmpty.hidden = items.length > 0;
    feedList.replaceChildren(...items.map((f) => {
      const d = f.data, s = siteStore.byId.get(d.site_id);
      return h('li', { class: `feed-item ${d.kind} ${f.open ? 'open' : 'closed'}`,
        dataset: { site: d.site_id, kind: d.kind, live: f.live ? '1' : '0' } },
        h('time', { text: fmtHM(f.open ? d.started_ms : d.ended_ms) }),
        h('span', { class: 'f-kind', text: alertLabel(d.kind) }),
        h('a', { href: `#/site/${encodeURIComponent(d.site_id)}`, text: s ? `${d.site_id} · ${s.name}` : d.site_id }),
        h('span', { class: 'f-state', text: f.open ? T.alertOpened : T.alertClosed }));
    }));
  }
  get('/api/v1/alerts?open=1').then((r) => {
    for (const a of r.alerts) {
      const k = feedKey(a);
      if (!feed.has(k)) feed.set(k, { data: a, open: true, live: false, at: a.started_ms });
    }
    renderFeed();
  }).catch(() => { /* the feed fills from the event stream */ });
  const offs = [
    onEvent('alert_opened', (d) => { feed.set(feedKey(d), { data: d, open: true, live: true, at: d.detected_ms ?? d.started_ms }); renderFeed(); }),
    onEvent('alert_closed', (d) => {
      const k = feedKey(d), f = feed.get(k);
      feed.set(k, { data: { ...(f?.data ?? {}), ...d }, open: false, live: true, at: d.ended_ms });
      renderFeed();
    }),
    onConnection(showConn),
    watchSites(render),
  ];
  function showConn(on) {
    feedLive.className = `live-dot ${on ? 'on' : 'off'}`;
    feedLive.title = on ? T.liveOn : T.liveOff;
    feedLive.dataset.connected = on ? '1' : '0';
  }
  showConn(eventsConnected);

  // ---- Wiring ----
  q.addEventListener('input', () => { filter.q = q.value; applyFilter(); });
  districtSel.addEventListener('change', () => { filter.district = districtSel.value; applyFilter(); });
  levelSel.addEventListener('change', () => { filter.level = levelSel.value; applyFilter(); });
  stateSel.addEventListener('change', () => { filter.state = stateSel.value; applyFilter(); });
  const tick = setInterval(() => { if (!document.hidden) render(); }, 1000);
  return () => { clearInterval(tick); for (const off of offs) off(); };
}
