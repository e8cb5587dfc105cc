// Technician's camera health: one row per site, sortable by any column and by default by
// problem (offline, no picture, dark, covered, blurred, frozen, moved, never connected, ok),
// with when the site was last seen, where its counting happens (the node's model, looks per
// second, ms per look, CPU share of its budget, setup version), the node's spool backlog and
// its drops; a node the service refuses says why (the answer its node was given). A row
// opens the site's page, where the live view is.
import { h, clear, fold, sortableTable } from './dom.js';
import { t, fmtNum, fmtDec, fmtBytes, ageText, problemLabel, cameraState, cameraErrorHint } from './i18n.js';
import { sites as siteStore, watchSites, serverNow, PROBLEMS, lastSeenMs } from './data.js';

const filter = { q: '', problem: '', district: '' };

export function mount(root) {
  const T = t();
  const q = h('input', { type: 'search', value: filter.q, placeholder: `${T.search}…`, autocomplete: 'off',
    attrs: { 'aria-label': T.search, 'data-testid': 'camera-search' } });
  const problemSel = h('select', { attrs: { 'aria-label': T.problem, 'data-testid': 'problem-filter' } },
    h('option', { value: '', text: T.allProblems }), h('option', { value: 'problems', text: T.onlyProblems }),
    PROBLEMS.map((p) => h('option', { value: p, text: problemLabel(p) })));
  problemSel.value = filter.problem;
  const districtSel = h('select', { attrs: { 'aria-label': T.district } }, h('option', { value: '', text: T.allDistricts }));
  const counts = h('ul', { class: 'problem-counts', attrs: { 'data-testid': 'problem-counts' } });

  const ago = (ms, now) => (ms ? ageText(now - ms) : '—');
  let now = serverNow();
  const table = sortableTable([
    { key: 'problem', label: T.problem, sort: (r) => [PROBLEMS.indexOf(r.problems[0]), r.problems.length > 1 ? 0 : 1, r.site.id],
      cell: (r) => r.problems.map((p) => h('span', { class: `badge p-${p}`, text: problemLabel(p), dataset: { problem: p } })) },
    { key: 'site', label: T.colSite, sort: (r) => r.site.id,
      cell: (r) => [h('a', { href: `#/site/${encodeURIComponent(r.site.id)}`, text: r.site.id }), h('small', { class: 'muted block', text: r.site.name })] },
    { key: 'district', label: T.district, sort: (r) => r.site.district, cell: (r) => r.site.district, class: 'wide-only' },
    { key: 'seen', label: T.colLastFrame, sort: (r) => (r.site.latest ? -r.site.latest.captured_at_ms : null),
      cell: (r) => ago(r.site.latest?.captured_at_ms, now) },
    { key: 'report', label: T.colHeartbeat, sort: (r) => (r.site.node ? -r.site.node.received_at_ms : null),
      cell: (r) => ago(r.site.node?.received_at_ms, now) },
    // A short state in the page's language; the node's raw error text only in the tooltip.
    { key: 'camera', label: T.colCamera, sort: (r) => cameraState(r.site.node?.report) || null, class: 'wide-only',
      cell: (r) => {
        const rep = r.site.node?.report;
        const label = cameraState(rep);
        if (!label) return '—';
        // A node not heard from lately: what its last report said, greyed.
        const cls = r.problems[0] === 'offline' ? 'muted' : rep.camera.playing && rep.state === 'ok' ? null : 'bad';
        return h('span', { class: cls, text: label,
          title: cameraErrorHint(rep.camera.last_error) || null, attrs: { 'data-testid': 'camera-state' } });
      } },
    { key: 'counting', label: T.colCounting, class: 'wide-only',
      sort: (r) => (r.site.node?.report ? (r.site.node.report.counting ? r.site.node.report.counting.rate_hz : -1) : null),
      cell: (r) => {
        const rep = r.site.node?.report;
        const c = rep?.counting;
        const how = !rep ? '—' : !c ? h('span', { text: T.countedCentrally, dataset: { mode: 'central' } })
          : h('span', { dataset: { mode: 'edge' }, title: T.countingHint,
            text: `${T.countedAtSite} · ${c.model} · ${fmtDec(c.rate_hz, 2)}/s · ${fmtNum(Math.round(c.detector_ms))} ms · ` +
              `${fmtDec(c.cpu_share, 2)}/${fmtDec(c.max_cores, 2)} ${T.cores} · v${c.setup_version}` });
        const no = r.site.refused;
        if (!no || !r.problems.includes('refused')) return how;
        // The service's answer (English, may hold a model's hash) in the tooltip, not the cell.
        const why = h('small', { class: 'refusal block', attrs: { 'data-testid': 'refusal' }, title: no.message,
          text: T.refusedLine(fmtNum(no.count), ageText(now - no.at_ms)) });
        return rep ? [how, why] : why;
      } },
    { key: 'spool', label: T.colSpool, class: 'num', sort: (r) => (r.site.node?.report?.spool ? -r.site.node.report.spool.items : null),
      cell: (r) => { const s = r.site.node?.report?.spool; return s ? `${fmtNum(s.items)} (${fmtBytes(s.bytes)})` : '—'; } },
    { key: 'drops', label: T.colDrops, class: 'num', sort: (r) => { const d = r.site.node?.items_lost; return d == null ? null : -d; },
      cell: (r) => { const d = r.site.node?.items_lost; return d == null ? '—' : h('span', { class: d ? 'bad' : null, text: fmtNum(d), title: T.dropsHint }); } },
  ], { initial: { key: 'problem', dir: 1 }, rowAttrs: (r) => ({ dataset: { site: r.site.id, problem: r.problems[0] } }) });

  clear(root, h('section', { class: 'cameras', attrs: { 'data-testid': 'view-cameras' } },
    h('div', 'toolbar', h('h2', { text: T.camerasTitle }), h('div', 'filters', q, districtSel, problemSel)),
    counts,
    h('section', 'card', h('div', { class: 'table-wrap', attrs: { 'data-testid': 'camera-table' } }, table.node))));

  let districts = '';
  function render() {
    const list = siteStore.list;
    if (!list.length) return;
    now = serverNow();
    const ds = [...new Set(list.map((s) => s.district))];
    if (ds.join('\n') !== districts) {
      districts = ds.join('\n');
      districtSel.replaceChildren(districtSel.options[0], ...ds.map((d) => h('option', { value: d, text: d })));
      districtSel.value = filter.district;
    }
    const rows = list.map((site) => ({ site, problems: site.problems }));
    const tally = new Map(PROBLEMS.map((p) => [p, 0]));
    for (const r of rows) tally.set(r.problems[0], tally.get(r.problems[0]) + 1);
    counts.replaceChildren(...PROBLEMS.filter((p) => tally.get(p)).map((p) => h('li', null,
      h('button', { type: 'button', class: `badge p-${p}`, text: `${problemLabel(p)}: ${tally.get(p)}`,
        attrs: { 'aria-pressed': String(filter.problem === p) },
        on: { click: () => { filter.problem = filter.problem === p ? '' : p; problemSel.value = filter.problem; render(); } } }))));
    const fq = fold(filter.q.trim());
    table.setRows(rows.filter((r) =>
      (!fq || fold(`${r.site.id} ${r.site.name}`).includes(fq)) &&
      (!filter.district || r.site.district === filter.district) &&
      (filter.problem === '' || (filter.problem === 'problems' ? r.problems[0] !== 'ok' : r.problems.includes(filter.problem)))));
  }
  q.addEventListener('input', () => { filter.q = q.value; render(); });
  problemSel.addEventListener('change', () => { filter.problem = problemSel.value; render(); });
  districtSel.addEventListener('change', () => { filter.district = districtSel.value; render(); });
  return watchSites(render);
}
