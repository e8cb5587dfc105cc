// A site's counting setup (technicians, admins): on the latest picture, the audience area and
// the excluded areas are drawn point by point (a click or a tap each, undo, finish), the
// empty-room reference is taken from the picture or cleared, and every change is previewed at
// once by the service: which of the picture's detections it would count, and why not the
// others. Saving makes a new version that the centre counts with from the next frame and the
// site's node receives with its next answer. The rules stay at the service: this page only
// draws what it says.
import { h, setText, clear } from './dom.js';
import { get, post, enc, ApiError } from './api.js';
import { t, fmtNum, fmtDateTime } from './i18n.js';
import { sites as siteStore, watchSites } from './data.js';

const SVG = 'http://www.w3.org/2000/svg';
// An SVG element; `title` is shown as its tooltip.
function svgEl(tag, attrs, title) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (title) {
    const tt = document.createElementNS(SVG, 'title');
    tt.textContent = title;
    e.append(tt);
  }
  return e;
}

export function mount(root, [id]) {
  const T = t();
  let shown = null;      // GET .../setup
  let draft = null;      // the setup being drawn (the service's JSON form)
  let takeReference = false;
  let confirmView = false;
  let drawing = null;    // {kind: 'count'|'exclude', points: [[x, y] shares]}
  let previewSeq = 0, previewTimer = 0;
  let detections = [];   // [{box, verdict, zone}] for the draft
  let reference = [];    // the draft's empty-room spots (shares)
  let dirty = false;

  const title = h('h2', { class: 'site-name', attrs: { 'data-testid': 'setup-site' } });
  const version = h('p', { class: 'muted', attrs: { 'data-testid': 'setup-version' } });
  const img = h('img', { alt: T.setupPicture });
  const svg = svgEl('svg', { class: 'boxes setup-marks', 'data-testid': 'setup-marks' });
  const picture = h('div', 'boxed setup-picture', img, svg);
  const noPicture = h('p', { class: 'muted', text: T.setupNoPicture, hidden: true });
  const tally = h('p', { class: 'tally', attrs: { 'data-testid': 'setup-tally', 'aria-live': 'polite' } });
  const hint = h('p', { class: 'muted small', text: T.setupHint });
  const kind = h('select', { attrs: { 'data-testid': 'setup-kind', 'aria-label': T.setupKind } },
    h('option', { value: 'exclude', text: T.setupExclude }), h('option', { value: 'count', text: T.setupAudience }));
  const drawBtn = h('button', { type: 'button', text: T.setupDraw, attrs: { 'data-testid': 'setup-draw' } });
  const finishBtn = h('button', { type: 'button', class: 'primary', text: T.setupFinish, hidden: true, attrs: { 'data-testid': 'setup-finish' } });
  const undoBtn = h('button', { type: 'button', text: T.undo, hidden: true, attrs: { 'data-testid': 'setup-undo' } });
  const cancelBtn = h('button', { type: 'button', text: T.cancel, hidden: true });
  const zoneName = h('input', { type: 'text', maxLength: 64, placeholder: T.setupZoneName, hidden: true,
    attrs: { 'data-testid': 'setup-zone-name', 'aria-label': T.setupZoneName } });
  const zoneList = h('ul', { class: 'zone-list', attrs: { 'data-testid': 'setup-zones' } });
  const minScore = h('input', { type: 'number', min: 0, max: 1, step: 0.05, attrs: { 'data-testid': 'setup-min-score' } });
  const refState = h('p', { class: 'small', attrs: { 'data-testid': 'setup-reference' } });
  const takeRefBtn = h('button', { type: 'button', text: T.setupTakeReference, attrs: { 'data-testid': 'setup-take-reference' } });
  const clearRefBtn = h('button', { type: 'button', text: T.setupClearReference, attrs: { 'data-testid': 'setup-clear-reference' } });
  const viewState = h('p', { class: 'small', attrs: { 'data-testid': 'setup-view' } });
  const confirmViewBtn = h('button', { type: 'button', text: T.setupConfirmView, attrs: { 'data-testid': 'setup-confirm-view' } });
  const saveBtn = h('button', { type: 'button', class: 'primary', text: T.setupSave, disabled: true, attrs: { 'data-testid': 'setup-save' } });
  const resetBtn = h('button', { type: 'button', text: T.setupReset, disabled: true });
  const msg = h('p', { class: 'form-error', hidden: true, attrs: { role: 'alert', 'data-testid': 'setup-msg' } });
  const saved = h('p', { class: 'ok-text', hidden: true, attrs: { 'data-testid': 'setup-saved' } });
  const history = h('ol', { class: 'setup-history small', reversed: true, attrs: { 'data-testid': 'setup-history' } });
  const legend = h('ul', 'marks-legend setup-legend',
    [['counted', T.setupCounted], ['dropped', T.setupDropped], ['ref', T.setupRefSpot], ['zone-count', T.setupAudience], ['zone-exclude', T.setupExclude]]
      .map(([c, text]) => h('li', c, h('span', 'swatch'), text)));

  clear(root, h('section', { class: 'site-page setup-page', attrs: { 'data-testid': 'view-setup' } },
    h('div', 'site-head', h('a', { class: 'back', href: `#/site/${enc(id)}`, text: `← ${T.back}` }),
      h('div', 'site-title', title), version),
    h('div', 'site-grid',
      h('div', 'site-left', h('section', 'card', picture, noPicture, tally, legend, hint)),
      h('div', 'site-right',
        h('section', 'card', h('h3', { text: T.setupAreas }),
          h('div', 'count-tools', kind, drawBtn, undoBtn, zoneName, finishBtn, cancelBtn), zoneList),
        h('section', 'card', h('h3', { text: T.setupEmptyRoom }), h('p', { class: 'muted small', text: T.setupEmptyRoomHint }),
          refState, h('div', 'count-tools', takeRefBtn, clearRefBtn)),
        h('section', 'card', h('h3', { text: T.setupView }), h('p', { class: 'muted small', text: T.setupViewHint }),
          viewState, h('div', 'count-tools', confirmViewBtn)),
        h('section', 'card', h('label', 'inline', h('span', { text: T.setupMinScore }), minScore)),
        h('section', 'card', h('div', 'actions', resetBtn, saveBtn), msg, saved,
          h('h3', { text: T.setupVersions }), history)))));

  // ---- Drawing: the picture's pixels <-> shares of it ----
  const natural = () => [img.naturalWidth || shown?.picture?.width || 1, img.naturalHeight || shown?.picture?.height || 1];
  function shareAt(e) {
    const r = img.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
    return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
  }
  function polygon(points, cls, name) {
    const [w, hgt] = natural();
    return svgEl(points.length >= 3 ? 'polygon' : 'polyline',
      { class: cls, points: points.map(([x, y]) => `${x * w},${y * hgt}`).join(' ') }, name);
  }
  function render() {
    const [w, hgt] = natural();
    svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
    const parts = [];
    for (const z of draft?.count ?? []) parts.push(polygon(z.points, 'zone zone-count', z.name));
    for (const z of draft?.exclude ?? []) parts.push(polygon(z.points, 'zone zone-exclude', z.name));
    for (const [x, y, bw, bh] of reference) parts.push(svgEl('rect', { class: 'ref', x: x * w, y: y * hgt, width: bw * w, height: bh * hgt }));
    detections.forEach((d, i) => {
      const [x, y, bw, bh] = d.box;
      const why = T.setupVerdicts[d.verdict] ?? d.verdict;
      parts.push(svgEl('rect', { class: d.verdict === 'counted' ? 'det counted' : 'det dropped', x, y, width: bw, height: bh,
        'data-verdict': d.verdict, 'data-index': String(i) }, d.zone ? `${why}: ${d.zone}` : why));
    });
    if (drawing) {
      parts.push(polygon(drawing.points, `zone drawing zone-${drawing.kind}`));
      for (const [x, y] of drawing.points) parts.push(svgEl('circle', { class: 'vertex', cx: x * w, cy: y * hgt, r: Math.max(4, w / 160) }));
    }
    svg.replaceChildren(...parts);
    const kept = detections.filter((d) => d.verdict === 'counted').length;
    setText(tally, shown?.picture ? T.setupTally(fmtNum(kept), fmtNum(detections.length)) : '');
    tally.dataset.kept = String(kept);
    tally.dataset.detections = String(detections.length);
    zoneList.replaceChildren(...['count', 'exclude'].flatMap((k) => (draft?.[k] ?? []).map((z, i) =>
      h('li', { dataset: { kind: k, name: z.name } }, h('span', { class: `swatch zone-${k}` }),
        h('span', { text: `${k === 'count' ? T.setupAudience : T.setupExclude}: ${z.name} (${z.points.length} ${T.setupPoints})` }),
        h('button', { type: 'button', class: 'small', text: T.setupRemove, attrs: { 'data-testid': 'setup-remove-zone' },
          on: { click: () => { draft[k].splice(i, 1); changed(); } } })))));
    if (!zoneList.children.length) zoneList.append(h('li', { class: 'muted', text: T.setupNoZones }));
    setText(refState, takeReference ? T.setupRefTaken(fmtNum(reference.length))
      : reference.length ? T.setupRefKept(fmtNum(reference.length)) : T.setupRefNone);
    refState.dataset.spots = String(reference.length);
    setText(viewState, confirmView ? T.setupViewToConfirm
      : draft?.view_confirmed_ms ? T.setupViewConfirmed(fmtDateTime(draft.view_confirmed_ms)) : T.setupViewNever);
    confirmViewBtn.disabled = confirmView;
    const isDrawing = Boolean(drawing);
    for (const b of [finishBtn, undoBtn, cancelBtn, zoneName]) b.hidden = !isDrawing;
    drawBtn.hidden = isDrawing;
    kind.disabled = isDrawing;
    finishBtn.disabled = !drawing || drawing.points.length < 3;
    undoBtn.disabled = !drawing?.points.length;
    saveBtn.disabled = !dirty || isDrawing;
    resetBtn.disabled = !dirty;
    takeRefBtn.disabled = !shown?.picture;
  }

  // ---- The service's preview of the draft ----
  function changed() {
    dirty = true;
    saved.hidden = true;
    render();
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 150);
  }
  async function preview() {
    const mine = ++previewSeq;
    try {
      const r = await post(`/api/v1/sites/${enc(id)}/setup/preview`, body());
      if (mine !== previewSeq) return;
      detections = r.detections;
      reference = r.empty_reference;
      msg.hidden = true;
    } catch (e) {
      if (mine !== previewSeq) return;
      showError(e);
    }
    render();
  }
  const body = () => ({ setup: draft, sequence: shown?.picture?.sequence ?? null, take_reference: takeReference,
    confirm_view: confirmView });
  function showError(e) {
    msg.textContent = e instanceof ApiError && e.status === 403 ? T.forbiddenApi
      : e instanceof ApiError && e.code === 'setup_changed' ? T.setupChanged
        : e instanceof ApiError && e.code === 'bad_setup' ? T.setupBad(e.message) : T.requestFailed(e.code ?? e.message);
    msg.hidden = false;
  }

  // ---- Controls ----
  svg.addEventListener('click', (e) => {
    if (!drawing) return;
    drawing.points.push(shareAt(e));
    render();
  });
  drawBtn.addEventListener('click', () => {
    const k = kind.value;
    drawing = { kind: k, points: [] };
    const n = (draft[k]?.length ?? 0) + 1;
    zoneName.value = `${k === 'count' ? T.setupAudienceName : T.setupExcludeName}-${n}`;
    render();
  });
  undoBtn.addEventListener('click', () => { drawing?.points.pop(); render(); });
  cancelBtn.addEventListener('click', () => { drawing = null; render(); });
  finishBtn.addEventListener('click', () => {
    if (!drawing || drawing.points.length < 3) return;
    const name = zoneName.value.trim() || `${drawing.kind}-${(draft[drawing.kind]?.length ?? 0) + 1}`;
    draft[drawing.kind].push({ name: name.slice(0, 64), points: drawing.points });
    drawing = null;
    changed();
  });
  minScore.addEventListener('change', () => {
    const v = Number(minScore.value);
    draft.min_score = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
    changed();
  });
  takeRefBtn.addEventListener('click', () => { takeReference = true; changed(); });
  confirmViewBtn.addEventListener('click', () => { confirmView = true; changed(); });
  clearRefBtn.addEventListener('click', () => { takeReference = false; draft.empty_reference = []; changed(); });
  resetBtn.addEventListener('click', () => load());
  saveBtn.addEventListener('click', async () => {
    saveBtn.disabled = true;
    try {
      const r = await post(`/api/v1/sites/${enc(id)}/setup`, { ...body(), based_on: shown.version });
      await load();
      saved.textContent = r.changed ? T.setupSavedAs(fmtNum(r.version)) : T.setupUnchanged;
      saved.hidden = false;
      saved.dataset.version = String(r.version);
    } catch (e) {
      showError(e);
      saveBtn.disabled = false;
    }
  });

  // ---- Loading ----
  // The site's name once the shared site list has it (a page opened straight at its address).
  function showTitle() { setText(title, `${T.setupTitle} — ${siteStore.byId.get(id)?.name ?? id}`); }
  async function load() {
    try {
      shown = await get(`/api/v1/sites/${enc(id)}/setup`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { clear(root, h('p', { class: 'muted', text: T.notFound })); return; }
      showError(e);
      return;
    }
    draft = structuredClone(shown.setup);
    takeReference = false;
    confirmView = false;
    drawing = null;
    dirty = false;
    detections = shown.detections;
    reference = draft.empty_reference;
    minScore.value = String(draft.min_score);
    msg.hidden = true;
    showTitle();
    setText(version, shown.version ? T.setupVersion(fmtNum(shown.version), shown.made_by === 'config' ? T.setupFromFile : shown.made_by,
      fmtDateTime(shown.created_ms)) : T.setupNone);
    version.dataset.version = String(shown.version);
    history.replaceChildren(...shown.history.map((v) => h('li', { value: v.version,
      text: `${T.setupVersionShort(fmtNum(v.version))} · ${v.made_by === 'config' ? T.setupFromFile : v.made_by} · ${fmtDateTime(v.created_ms)}` })));
    noPicture.hidden = Boolean(shown.picture);
    picture.hidden = !shown.picture;
    if (shown.picture) {
      picture.style.aspectRatio = `${shown.picture.width} / ${shown.picture.height}`;
      if (img.dataset.url !== shown.picture.url) {
        img.dataset.url = shown.picture.url;
        img.src = shown.picture.url;
      }
    }
    render();
  }
  img.addEventListener('load', render);
  const off = watchSites(showTitle);
  load();
  return () => { clearTimeout(previewTimer); off(); };
}
