// Auditor's records: the ledger's verification, exports (CSV) and printable reports, the
// sessions (period summaries) and the roll calls with their evidence, which an auditor can
// correct. Admins see the same without the correction.
import { h, clear, setText, downloadLink } from './dom.js';
import { get, can, enc } from './api.js';
import { t, fmtNum, fmtPct, fmtDay, periodLabel } from './i18n.js';
import { dayInput } from './dayinput.js';
import { sites as siteStore, watchSites } from './data.js';
import { rollCallTable } from './rollcalls.js';

const filter = { site: '', district: '', date: '', period: '' }; // date: YYYY-MM-DD, as the API takes it

export function mount(root) {
  const T = t();
  const siteSel = h('select', { attrs: { 'aria-label': T.colSite, 'data-testid': 'records-site' } });
  const districtSel = h('select', { attrs: { 'aria-label': T.district, 'data-testid': 'records-district' } });
  const dateIn = dayInput(filter.date, (iso) => { filter.date = iso; changed(); }, 'records-date');
  const periodSel = h('select', { attrs: { 'aria-label': T.period, 'data-testid': 'records-period' } },
    h('option', { value: '', text: T.allPeriods }), ['morning', 'afternoon'].map((p) => h('option', { value: p, text: periodLabel(p) })));
  periodSel.value = filter.period;
  const ledgerBox = h('div', { class: 'ledger', attrs: { 'data-testid': 'ledger-status', 'aria-live': 'polite' } });
  const verifyBtn = h('button', { type: 'button', text: T.verifyAgain, attrs: { 'data-testid': 'verify' } });
  const exportBox = h('div', { class: 'exports', attrs: { 'data-testid': 'exports' } });
  const sessionsBox = h('div', { attrs: { 'data-testid': 'sessions' } });
  const rollBox = h('div', { attrs: { 'data-testid': 'records-roll-calls' } });
  const rollCount = h('span', 'muted');
  const toCheckBox = h('div', { attrs: { 'data-testid': 'to-check' } });
  const toCheckCount = h('span', 'muted');

  clear(root, h('section', { class: 'records', attrs: { 'data-testid': 'view-records' } },
    h('div', 'toolbar', h('h2', { text: T.recordsTitle }),
      h('div', 'filters', siteSel, districtSel, dateIn, periodSel)),
    h('div', 'records-grid',
      can('ledger') ? h('section', 'card', h('div', 'card-head', h('h3', { text: T.ledger }), verifyBtn), ledgerBox) : null,
      can('exports') ? h('section', 'card', h('h3', { text: T.exports }), exportBox) : null),
    can('correct') ? h('section', 'card', h('div', 'card-head', h('h3', { text: T.toCheck }), toCheckCount), toCheckBox) : null,
    h('section', 'card', h('div', 'card-head', h('h3', { text: T.rollCalls }), rollCount), rollBox),
    h('section', 'card', h('h3', { text: T.sessions }), sessionsBox)));

  // ---- Filters: site (grouped by district) or district, date, period ----
  function fillSelects() {
    if (siteSel.options.length || !siteStore.list.length) return;
    queueMicrotask(() => off()); // the list is all this view needs of the polled sites
    siteSel.append(h('option', { value: '', text: T.allSites }));
    districtSel.append(h('option', { value: '', text: T.allDistricts }));
    const groups = new Map();
    for (const s of siteStore.list) {
      if (!groups.has(s.district)) {
        groups.set(s.district, h('optgroup', { label: s.district }));
        districtSel.append(h('option', { value: s.district, text: s.district }));
      }
      groups.get(s.district).append(h('option', { value: s.id, text: `${s.id} · ${s.name}` }));
    }
    siteSel.append(...groups.values());
    siteSel.value = filter.site;
    districtSel.value = filter.district;
    renderExports();
  }

  // ---- Ledger verification ----
  async function verify() {
    verifyBtn.disabled = true;
    clear(ledgerBox, h('p', { class: 'muted', text: T.checking }));
    try {
      const r = await get('/api/v1/ledger/verify');
      ledgerBox.dataset.intact = r.intact ? '1' : '0';
      clear(ledgerBox, r.intact
        ? h('p', { class: 'ok-box', text: T.ledgerIntact(fmtNum(r.ledger_entries), fmtNum(r.audit_entries)) })
        : h('div', 'bad-box', h('p', null, h('strong', { text: T.ledgerBroken(r.problems.length) })),
          h('ul', null, r.problems.map((p) => h('li', { text: typeof p === 'string' ? p : JSON.stringify(p) })))));
    } catch (e) {
      ledgerBox.dataset.intact = '';
      clear(ledgerBox, h('p', { class: 'form-error', text: T.requestFailed(e.code) }));
    }
    verifyBtn.disabled = false;
  }

  // ---- Exports: the CSVs for the chosen site or district (or the province), reports ----
  function renderExports() {
    if (!can('exports')) return;
    const q = filter.site ? `?site=${enc(filter.site)}` : filter.district ? `?district=${enc(filter.district)}` : '';
    const scope = filter.site || filter.district || T.wholeProvince;
    const reports = [];
    if (filter.site) reports.push(h('a', { class: 'button', href: `/api/v1/reports/sites/${enc(filter.site)}.html`, target: '_blank',
      rel: 'noopener', text: `${T.siteReport}: ${filter.site}`, attrs: { 'data-testid': 'report-site' } }));
    const district = filter.district || siteStore.byId.get(filter.site)?.district;
    if (district) reports.push(h('a', { class: 'button', href: `/api/v1/reports/district.html?name=${enc(district)}`, target: '_blank',
      rel: 'noopener', text: `${T.districtReport}: ${district}`, attrs: { 'data-testid': 'report-district' } }));
    clear(exportBox,
      h('p', { class: 'muted', text: T.exportScope(scope) }),
      h('div', 'button-row', ['roll-calls', 'alerts', 'summaries', 'rollups'].map((w) =>
        downloadLink(`/api/v1/exports/${w}.csv${q}`, T.csv[w], `export-${w}`))),
      reports.length ? h('div', 'button-row', reports) : h('p', { class: 'muted', text: T.pickSiteOrDistrict }));
  }

  // ---- Sessions and roll calls ----
  const query = () => {
    const p = new URLSearchParams();
    if (filter.site) p.set('site', filter.site);
    if (filter.date) p.set('date', filter.date);
    if (filter.period) p.set('period', filter.period);
    const s = p.toString();
    return s ? `?${s}` : '';
  };
  const inDistrict = (r) => !filter.district || filter.site || siteStore.byId.get(r.site_id)?.district === filter.district;

  async function loadRecords() {
    const q = query();
    const scope = filter.site ? `?site=${enc(filter.site)}` : filter.district ? `?district=${enc(filter.district)}` : '';
    const [sum, rc, plan] = await Promise.allSettled([get(`/api/v1/summaries${q}`), get(`/api/v1/roll-calls${q}`),
      can('correct') ? get(`/api/v1/roll-calls/to-check${scope}`) : Promise.resolve(null)]);
    if (q !== query()) return; // the filters changed meanwhile
    if (plan.status === 'fulfilled' && plan.value) renderToCheck(plan.value);
    else if (plan.status === 'rejected') clear(toCheckBox, h('p', { class: 'form-error', text: T.requestFailed(plan.reason?.code) }));
    if (sum.status === 'fulfilled') renderSessions(sum.value.summaries.filter(inDistrict));
    else clear(sessionsBox, h('p', { class: 'form-error', text: T.requestFailed(sum.reason?.code) }));
    if (rc.status === 'fulfilled') {
      const calls = rc.value.roll_calls.filter(inDistrict);
      setText(rollCount, T.rows(fmtNum(calls.length)));
      clear(rollBox, rollCallTable(calls, { showSite: true, onCorrected: loadRecords }));
    } else {
      clear(rollBox, h('p', { class: 'form-error', text: T.requestFailed(rc.reason?.code) }));
    }
  }

  // The roll calls the service proposes to count on the picture, and how many checks the sites
  // still need for their calibration.
  function renderToCheck(plan) {
    const short = plan.sites.filter((x) => x.needed > 0);
    const needed = short.reduce((n, x) => n + x.needed, 0);
    setText(toCheckCount, T.toCheckNeeded(fmtNum(short.length), fmtNum(needed), fmtNum(plan.per_site)));
    toCheckCount.dataset.needed = String(needed);
    clear(toCheckBox, plan.proposals.length
      ? rollCallTable(plan.proposals, { showSite: true, onCorrected: loadRecords, why: true })
      : h('p', { class: 'muted', text: T.toCheckNone }));
  }

  function renderSessions(list) {
    if (!list.length) { clear(sessionsBox, h('p', { class: 'muted', text: T.noSessions })); return; }
    const cols = [T.colSite, T.colDate, T.colPeriod, T.colExpected, T.colFrames, T.colPeak, T.colMedian, T.colMin, T.colRate, T.colLate, T.colEarly];
    // null: the session had no frame, so the service knows no count, rate or fact (docs/api.md).
    const none = (v) => (v == null ? T.noDataHint : null);
    const yn = (b) => h('td', { class: b ? 'warn' : null, text: b == null ? '—' : b ? T.yes : T.no, title: none(b) });
    const num = (v) => h('td', { class: 'num', text: fmtNum(v), title: none(v) });
    clear(sessionsBox, h('div', 'table-wrap scroll', h('table', 'data sessions',
      h('thead', null, h('tr', null, cols.map((c, i) => h('th', { class: i >= 3 && i <= 8 ? 'num' : null, text: c, attrs: { scope: 'col' } })))),
      h('tbody', null, [...list].reverse().slice(0, 500).map((s) => h('tr', { dataset: { site: s.site_id } },
        h('td', null, h('a', { href: `#/site/${enc(s.site_id)}`, text: s.site_id, title: siteStore.byId.get(s.site_id)?.name ?? '' })),
        h('td', { text: fmtDay(s.date) }), h('td', { text: periodLabel(s.period) }),
        h('td', { class: 'num', text: fmtNum(s.expected) }), h('td', { class: 'num', text: fmtNum(s.frames) }),
        num(s.peak), num(s.median), num(s.minimum),
        h('td', { class: 'num', text: fmtPct(s.attendance_rate), title: none(s.attendance_rate) }),
        yn(s.late_start), yn(s.early_leave)))))));
  }

  const changed = () => {
    filter.site = siteSel.value;
    filter.district = filter.site ? '' : districtSel.value;
    if (filter.site) districtSel.value = '';
    filter.period = periodSel.value;
    renderExports();
    loadRecords();
  };
  for (const e of [siteSel, districtSel, periodSel]) e.addEventListener('change', changed);
  verifyBtn.addEventListener('click', verify);

  let off = () => {};
  off = watchSites(fillSelects);
  if (can('ledger')) verify();
  loadRecords();
  return () => off();
}
