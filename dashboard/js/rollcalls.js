// Roll calls as a table (site page, auditor's records) with their evidence pictures, and
// the auditor's correction: a recount from the evidence with its reason, appended to the
// ledger (POST /api/v1/roll-calls/corrections); the roll call stays as taken.
import { h } from './dom.js';
import { post, can, currentSession, ApiError } from './api.js';
import { t, fmtNum, fmtHM, fmtDate, fmtDateTime, periodLabel, problemLabel } from './i18n.js';
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

// An evidence picture as the camera gave it, with the boxes the count rests on drawn over it
// by the page (an SVG in the picture's pixels, sized once the picture is loaded).
export function evidencePicture(rc, alt, cls) {
  const img = h('img', { src: rc.evidence_url, alt });
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'boxes');
  svg.setAttribute('aria-hidden', 'true');
  svg.dataset.testid = 'evidence-boxes';
  for (const [x, y, w, bh] of rc.boxes ?? []) {
    const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
    for (const [k, v] of Object.entries({ x, y, width: w, height: bh })) r.setAttribute(k, v);
    svg.append(r);
  }
  img.addEventListener('load', () => svg.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`));
  return h('div', `boxed ${cls ?? ''}`, img, svg);
}

// The count a roll call stands on, or why it has none: a camera at fault gives a count that is
// set aside (kept, shown, left out of the totals) until an auditor recounts from the picture.
function setAsideNote(rc) {
  if (!rc.set_aside?.length || rc.correction) return null;
  return h('span', { class: 'badge camera_fault set-aside', style: 'white-space:normal',
    text: t().setAside(rc.set_aside.map(problemLabel).join(', ')), attrs: { 'data-testid': 'set-aside' } });
}

// The full evidence picture of a roll call: the caption (site, date and time) once, as the
// title; under the picture the count it proves and the file's SHA-256, for an auditor to
// check a copy of the file (sha256sum) against the ledger.
export function showEvidence(rc, caption) {
  const T = t();
  showDialog(caption, h('figure', 'evidence-full', evidencePicture(rc, `${T.colEvidence} ${caption}`),
    h('figcaption', null,
      h('p', { text: T.evidenceCounted(fmtNum(rc.counted), fmtNum(rc.expected)), attrs: { 'data-testid': 'evidence-count' } }),
      rc.boxes?.length ? h('p', { text: T.evidenceBoxes(fmtNum(rc.boxes.length)) }) : null,
      setAsideNote(rc),
      rc.evidence_sha256 ? h('p', null, h('span', { text: `${T.evidenceSha}: ` }),
        h('code', { text: rc.evidence_sha256, style: 'overflow-wrap:anywhere;user-select:all',
          attrs: { 'data-testid': 'evidence-sha256' } })) : null)),
  { wide: true, testid: 'evidence-dialog' });
}

// Posts a correction (a number, or marks on the picture); closes the dialog when stored, else
// says why under the form and lets it be sent again.
async function saveCorrection(body, { submit, msg, dialog, onDone }) {
  const T = t();
  submit.disabled = true;
  try {
    await post('/api/v1/roll-calls/corrections', body);
    dialog.close();
    onDone?.();
  } catch (err) {
    msg.textContent = err instanceof ApiError && err.status === 403
      ? (err.code === 'csrf' ? T.csrfError : T.forbiddenApi)
      : (err.message || T.requestFailed(err.code));
    msg.hidden = false;
    submit.disabled = false;
  }
}

function openCorrection(rc, onDone) {
  const T = t();
  const counted = h('input', { type: 'number', min: 0, max: 5000, required: true, name: 'counted',
    value: rc.counted ?? '', attrs: { 'data-testid': 'correction-counted' } });
  const reason = h('textarea', { required: true, name: 'reason', rows: 3, maxLength: 500, attrs: { 'data-testid': 'correction-reason' } });
  const msg = h('p', { class: 'form-error', hidden: true, attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', class: 'primary', text: T.save, attrs: { 'data-testid': 'correction-save' } });
  const cancel = h('button', { type: 'button', text: T.cancel });
  const img = rc.evidence_url ? evidencePicture(rc, T.colEvidence, 'evidence-mid') : null;
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
    saveCorrection({ subject: rc.subject, counted: n, reason: reason.value.trim(), user: currentSession()?.user },
      { submit, msg, dialog: d, onDone });
  });
}

// Counting on the evidence picture (an auditor): a click or tap on one of the counter's boxes
// marks it as not a person (again: kept), anywhere else adds a person it missed (a tap on an
// added point takes it back); undo goes back a mark at a time; the zoom enlarges the picture
// in a scrolling frame. The tally is the page's preview: the service counts the marks itself.
function openCountOnPicture(rc, onDone) {
  const T = t();
  const SVG = 'http://www.w3.org/2000/svg';
  const boxes = rc.boxes ?? [];
  const removed = new Set(rc.verified?.boxes === boxes.length ? rc.verified.removed : []);
  const added = rc.verified?.boxes === boxes.length ? rc.verified.added.map(([x, y]) => [x, y]) : [];
  const undo = [];  // {box: i} or {point: [x, y]}
  const picture = evidencePicture(rc, T.colEvidence, 'count-picture');
  const img = picture.querySelector('img'), svg = picture.querySelector('svg');
  svg.style.pointerEvents = 'auto';
  svg.dataset.testid = 'count-marks';
  const rects = [...svg.querySelectorAll('rect')];
  const dots = document.createElementNS(SVG, 'g');
  svg.append(dots);
  const tally = h('p', { class: 'tally', attrs: { 'data-testid': 'count-tally', 'aria-live': 'polite' } });
  const undoBtn = h('button', { type: 'button', text: T.undo, attrs: { 'data-testid': 'count-undo' } });
  let zoom = 1;
  const frame = h('div', { class: 'count-frame', attrs: { 'data-testid': 'count-frame' } }, picture);
  const zoomBtn = (by, label, testid) => h('button', { type: 'button', class: 'small', text: label, title: by > 1 ? T.zoomIn : T.zoomOut,
    attrs: { 'aria-label': by > 1 ? T.zoomIn : T.zoomOut, 'data-testid': testid },
    on: { click: () => { zoom = Math.min(4, Math.max(1, zoom * by)); picture.style.width = `${zoom * 100}%`; } } });
  function render() {
    rects.forEach((r, i) => r.classList.toggle('removed', removed.has(i)));
    dots.replaceChildren(...added.map(([x, y], i) => {
      const c = document.createElementNS(SVG, 'circle');
      for (const [k, v] of Object.entries({ cx: x, cy: y, r: Math.max(6, img.naturalWidth / 120) })) c.setAttribute(k, v);
      c.dataset.point = String(i);
      return c;
    }));
    const people = boxes.length - removed.size + added.length;
    tally.textContent = T.countTally(fmtNum(people), fmtNum(boxes.length - removed.size), fmtNum(removed.size), fmtNum(added.length));
    tally.dataset.people = String(people);
    undoBtn.disabled = !undo.length;
  }
  svg.addEventListener('click', (e) => {
    const box = rects.indexOf(e.target);
    if (box >= 0) {
      if (removed.has(box)) removed.delete(box); else removed.add(box);
      undo.push({ box });
    } else if (e.target.dataset?.point != null) {
      const [p] = added.splice(Number(e.target.dataset.point), 1);
      undo.push({ unadd: p });
    } else {
      const r = img.getBoundingClientRect();
      const p = [Math.round(((e.clientX - r.left) * img.naturalWidth / r.width) * 10) / 10,
        Math.round(((e.clientY - r.top) * img.naturalHeight / r.height) * 10) / 10];
      added.push(p);
      undo.push({ point: p });
    }
    render();
  });
  undoBtn.addEventListener('click', () => {
    const last = undo.pop();
    if (!last) return;
    if (last.box != null) { if (removed.has(last.box)) removed.delete(last.box); else removed.add(last.box); }
    if (last.point) added.splice(added.indexOf(last.point), 1);
    if (last.unadd) added.push(last.unadd);
    render();
  });
  img.addEventListener('load', render);
  const reason = h('textarea', { required: true, name: 'reason', rows: 2, maxLength: 500, value: T.countOnPictureReason,
    attrs: { 'data-testid': 'count-reason' } });
  const msg = h('p', { class: 'form-error', hidden: true, attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', class: 'primary', text: T.save, attrs: { 'data-testid': 'count-save' } });
  const cancel = h('button', { type: 'button', text: T.cancel });
  const form = h('form', { class: 'correction count-on-picture', method: 'dialog' },
    h('p', { class: 'muted', text: T.countOnPictureHint }),
    h('div', 'count-tools', undoBtn, zoomBtn(1.5, '+', 'count-zoom-in'), zoomBtn(1 / 1.5, '−', 'count-zoom-out'), tally),
    frame,
    h('p', { class: 'muted', text: `${rc.site_id} · ${fmtDate(rc.scheduled_ms)} ${fmtHM(rc.scheduled_ms)} · ${T.colCounted}: ${rc.correction?.counted_originally ?? rc.counted ?? '—'} / ${rc.expected}` }),
    h('label', null, h('span', { text: T.correctionReason }), reason),
    msg, h('div', 'actions', cancel, submit));
  const d = showDialog(T.countOnPicture, form, { wide: true, testid: 'count-dialog' });
  render();
  cancel.addEventListener('click', () => d.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) return;
    saveCorrection({ subject: rc.subject, reason: reason.value.trim(),
      picture: { boxes: boxes.length, removed: [...removed].sort((a, b) => a - b), added } },
    { submit, msg, dialog: d, onDone });
  });
}

// The table's lines: a roll call each, except that with `group`, the roll calls of one time
// without a picture (sites offline then: during an outage 161 of 164) are folded into one
// line when there are two or more, where the first of them would be. A count whose picture
// could not be kept is not grouped: that is rare and worth a look.
function linesOf(rows, group) {
  if (!group) return rows.map((rc) => ({ rc }));
  const lines = [], byTime = new Map();
  for (const rc of rows) {
    if (rc.evidence_url || rc.counted != null) { lines.push({ rc }); continue; }  // a count without its picture stays in sight
    let g = byTime.get(rc.scheduled_ms);
    if (!g) { g = { calls: [] }; byTime.set(rc.scheduled_ms, g); lines.push(g); }
    g.calls.push(rc);
  }
  return lines.map((l) => (l.calls?.length === 1 ? { rc: l.calls[0] } : l));
}

// A table of roll calls, the newest (by its set time) first. With
// showSite the site and date columns are added (records across sites and days), and the
// roll calls without a picture are grouped per time in one line that opens to them, so that
// those with evidence stay in sight; the count of each group is on its line.
export function rollCallTable(calls, { showSite = false, onCorrected, why = false } = {}) {
  const T = t();
  const newest = [...calls].sort((a, b) => b.scheduled_ms - a.scheduled_ms || b.seq - a.seq);
  const lines = linesOf(newest, showSite);
  const mayCorrect = can('correct');
  const head = [showSite && [T.colSite], showSite && [T.colDate], [T.colTime], [T.colPeriod], [T.colCounted, 'num'],
    [T.colExpected, 'num'], [T.colEvidence], why && [T.colWhy], mayCorrect && ['']].filter(Boolean);
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'more', hidden: true });
  let shown = 0;
  function addPage() {
    for (const l of lines.slice(shown, shown + PAGE)) tbody.append(...(l.rc ? [row(l.rc)] : groupRows(l)));
    shown = Math.min(lines.length, shown + PAGE);
    more.hidden = shown >= lines.length;
    more.textContent = T.showMore(lines.length - shown);
  }
  // One line "N sites with no picture at HH:MM", and its roll calls, hidden until opened.
  function groupRows(group) {
    const at = group.calls[0].scheduled_ms;
    const members = group.calls.map((rc) => {
      const tr = row(rc);
      tr.hidden = true;
      tr.classList.add('in-group');
      return tr;
    });
    const toggle = h('button', { type: 'button', class: 'small', text: T.noPictureShow,
      attrs: { 'aria-expanded': 'false', 'data-testid': 'no-picture-toggle' } });
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? T.noPictureHide : T.noPictureShow;
      for (const m of members) m.hidden = !open;
    });
    const line = h('tr', { class: 'no-picture-group', dataset: { count: group.calls.length },
      attrs: { 'data-testid': 'no-picture-group' } },
      h('td', { colSpan: head.length, class: 'muted' },
        h('span', { class: 'badge offline', style: 'white-space:normal', // wraps on a phone
          text: T.noPictureGroup(fmtNum(group.calls.length), fmtHM(at), fmtDate(at)) }),
        ' ', toggle));
    return [line, ...members];
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
    const aside = setAsideNote(rc);
    if (aside) counted.append(' ', aside);
    if (rc.verified) {
      counted.append(h('span', { class: 'verified', text: T.verifiedOnPicture(fmtNum(rc.verified.people)),
        attrs: { 'data-testid': 'verified' } }));
    }
    if (rc.estimated != null) {
      counted.append(h('span', { class: 'estimated', text: T.estimatedCount(fmtNum(rc.estimated)),
        attrs: { 'data-testid': 'estimated' } }));
    }
    if (rc.correction) {
      counted.append(h('span', { class: 'corrected', text: T.correctedFrom(rc.correction.counted_originally ?? '—',
        rc.correction.by, rc.correction.reason) }));
    }
    const caption = `${rc.site_id} · ${fmtDateTime(rc.scheduled_ms)}`;
    const ev = h('td', 'evidence');
    if (rc.evidence_url) {
      ev.append(h('button', { type: 'button', class: 'thumb', title: caption, on: { click: () => showEvidence(rc, caption) } },
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
      why && h('td', { text: T.checkWhy[rc.why] ?? rc.why, dataset: { why: rc.why } }),
      mayCorrect && h('td', 'actions-cell',
        rc.evidence_url && h('button', { type: 'button', class: 'small', text: T.countOnPicture,
          attrs: { 'data-testid': 'count-on-picture' }, on: { click: () => openCountOnPicture(rc, onCorrected) } }),
        h('button', { type: 'button', class: 'small', text: T.correct,
          attrs: { 'data-testid': 'correct' }, on: { click: () => openCorrection(rc, onCorrected) } })));
  }
  more.addEventListener('click', addPage);
  addPage();
  if (!lines.length) return h('p', { class: 'muted', text: T.noRollCalls, attrs: { 'data-testid': 'no-roll-calls' } });
  return h('div', 'table-wrap scroll',
    h('table', { class: 'data roll-calls', attrs: { 'data-testid': 'roll-calls' } },
      h('thead', null, h('tr', null, head.map(([c, cls]) => h('th', { class: cls, text: c, attrs: { scope: 'col' } })))), tbody), more);
}
