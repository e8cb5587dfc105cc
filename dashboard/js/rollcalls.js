// Roll calls as a table (site page, auditor's records) with their evidence pictures, and
// the auditor's correction: a recount from the evidence with its reason, appended to the
// ledger (POST /api/v1/roll-calls/corrections); the roll call stays as taken.
import { h } from './dom.js';
import { post, can, currentSession, ApiError } from './api.js';
import { t, fmtNum, fmtHM, fmtDate, fmtDateTime, periodLabel } from './i18n.js';
import { sites } from './data.js';

const PAGE = 200;

// A dialog on top of the page; closed with its buttons or Escape, removed when closed.
export function showDialog(title, body, { wide = false, testid } = {}) {
  const close = h('button', { type: 'button', class: 'close', text: '×', attrs: { 'aria-label': t().cancel } });
  const d = h('dialog', { class: wide ? 'wide' : null, attrs: { 'aria-label': title, 'data-testid': testid } },
    h('div', 'dialog-head', h('h2', { text: title }), close), body);
  close.addEventListener('click', () => d.close());
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

export function showEvidence(url, caption) {
  showDialog(caption, h('figure', 'evidence-full', h('img', { src: url, alt: caption }),
    h('figcaption', { text: caption })), { wide: true, testid: 'evidence-dialog' });
}

function openCorrection(rc, onDone) {
  const T = t();
  const counted = h('input', { type: 'number', min: 0, max: 5000, required: true, name: 'counted',
    value: rc.counted ?? '', attrs: { 'data-testid': 'correction-counted' } });
  const reason = h('textarea', { required: true, name: 'reason', rows: 3, maxLength: 500, attrs: { 'data-testid': 'correction-reason' } });
  const msg = h('p', { class: 'form-error', hidden: true, attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', class: 'primary', text: T.save, attrs: { 'data-testid': 'correction-save' } });
  const cancel = h('button', { type: 'button', text: T.cancel });
  const img = rc.evidence_url ? h('img', { src: rc.evidence_url, alt: T.colEvidence, class: 'evidence-mid' }) : null;
  const form = h('form', { class: 'correction', method: 'dialog' },
    img,
    h('p', { class: 'muted', text: `${rc.site_id} · ${fmtDate(rc.scheduled_ms)} ${fmtHM(rc.scheduled_ms)} · ${T.colCounted}: ${rc.counted ?? '—'} / ${rc.expected}` }),
    h('label', null, h('span', { text: T.correctionCounted }), counted),
    h('label', null, h('span', { text: T.correctionReason }), reason),
    msg, h('div', 'actions', cancel, submit));
  const d = showDialog(T.correction, form, { testid: 'correction-dialog' });
  cancel.addEventListener('click', () => d.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = Number(counted.value);
    if (!Number.isInteger(n) || n < 0 || !reason.value.trim()) return;
    submit.disabled = true;
    try {
      await post('/api/v1/roll-calls/corrections',
        { subject: rc.subject, counted: n, reason: reason.value.trim(), user: currentSession()?.user });
      d.close();
      onDone?.();
    } catch (err) {
      msg.textContent = err instanceof ApiError && err.status === 403
        ? (err.code === 'csrf' ? T.csrfError : T.forbiddenApi)
        : (err.message || T.requestFailed(err.code));
      msg.hidden = false;
      submit.disabled = false;
    }
  });
}

// A table of roll calls (oldest first as the API gives them; newest shown first). With
// showSite the site and date columns are added (records across sites and days).
export function rollCallTable(calls, { showSite = false, onCorrected } = {}) {
  const T = t();
  const rows = [...calls].reverse();
  const mayCorrect = can('correct');
  const head = [showSite && [T.colSite], showSite && [T.colDate], [T.colTime], [T.colPeriod], [T.colCounted, 'num'],
    [T.colExpected, 'num'], [T.colEvidence], mayCorrect && ['']].filter(Boolean);
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'more', hidden: true });
  let shown = 0;
  function addPage() {
    for (const rc of rows.slice(shown, shown + PAGE)) tbody.append(row(rc));
    shown = Math.min(rows.length, shown + PAGE);
    more.hidden = shown >= rows.length;
    more.textContent = T.showMore(rows.length - shown);
  }
  function row(rc) {
    const site = sites.byId.get(rc.site_id);
    const counted = h('td', 'num');
    if (rc.counted == null) counted.append(h('span', { class: 'badge offline', text: T.offlineRollCall }));
    else counted.append(h('strong', { text: fmtNum(rc.counted) }));
    if (rc.audit_count != null) {  // a node's count: its count of the picture and the service's
      counted.append(h('span', { class: 'audited', text: T.audited(rc.evidence_count ?? '—', rc.audit_count),
        attrs: { 'data-testid': 'audit-count' } }));
    }
    if (rc.correction) {
      counted.append(h('span', { class: 'corrected', text: T.correctedFrom(rc.correction.counted_originally ?? '—',
        rc.correction.by, rc.correction.reason) }));
    }
    const caption = `${rc.site_id} · ${fmtDateTime(rc.scheduled_ms)}`;
    const ev = h('td', 'evidence');
    if (rc.evidence_url) {
      ev.append(h('button', { type: 'button', class: 'thumb', title: caption, on: { click: () => showEvidence(rc.evidence_url, caption) } },
        h('img', { src: rc.evidence_url, alt: `${T.colEvidence} ${caption}`, loading: 'lazy', width: 96, height: 54 })));
    } else {
      ev.textContent = T.noEvidence;
    }
    return h('tr', { dataset: { subject: rc.subject, site: rc.site_id }, class: rc.correction ? 'is-corrected' : null },
      showSite && h('td', null, h('a', { href: `#/site/${encodeURIComponent(rc.site_id)}`, text: rc.site_id, title: site?.name ?? '' })),
      showSite && h('td', { text: fmtDate(rc.scheduled_ms) }),
      h('td', { text: fmtHM(rc.scheduled_ms) }),
      h('td', { text: periodLabel(rc.period) }),
      counted,
      h('td', { class: 'num', text: fmtNum(rc.expected) }),
      ev,
      mayCorrect && h('td', null, h('button', { type: 'button', class: 'small', text: T.correct,
        attrs: { 'data-testid': 'correct' }, on: { click: () => openCorrection(rc, onCorrected) } })));
  }
  more.addEventListener('click', addPage);
  addPage();
  if (!rows.length) return h('p', { class: 'muted', text: T.noRollCalls, attrs: { 'data-testid': 'no-roll-calls' } });
  return h('div', 'table-wrap scroll',
    h('table', { class: 'data roll-calls', attrs: { 'data-testid': 'roll-calls' } },
      h('thead', null, h('tr', null, head.map(([c, cls]) => h('th', { class: cls, text: c, attrs: { scope: 'col' } })))), tbody), more);
}
