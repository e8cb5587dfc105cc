// DOM helpers. Every text from the API (site names come from an editable CSV, reasons from
// users) reaches the page as a text node or textContent, never as HTML.

// h('td', {class: 'num', title: 'x', dataset: {id: 'tp-01'}}, 'text', childNode)
// props: a class name, or {class, text, dataset, attrs, on, ...properties}.
export function h(tag, props, ...children) {
  const e = document.createElement(tag);
  if (typeof props === 'string') {
    e.className = props;
  } else if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'attrs') for (const [a, av] of Object.entries(v)) { if (av != null) e.setAttribute(a, av); }
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else e[k] = v;
    }
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (id) => document.getElementById(id);
export function setText(e, s) { if (e.textContent !== s) e.textContent = s; }
export function clear(e, ...children) { e.replaceChildren(); append(e, children); return e; }

// Lower case without Vietnamese diacritics, for search ("lai chau" finds "Lai Châu").
export const fold = (s) => s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd');

// A table whose header cells sort it. columns: [{key, label, sort: (row) => value, cell:
// (row) => node|string, class}]. Returns {node, setRows(rows), refresh()}; the sort is kept
// across updates and shown with aria-sort.
export function sortableTable(columns, { initial, rowAttrs, caption } = {}) {
  let rows = [], sortKey = initial?.key ?? null, dir = initial?.dir ?? 1;
  const tbody = h('tbody');
  const ths = columns.map((c) => {
    const th = h('th', { class: c.class, attrs: { scope: 'col' }, dataset: { key: c.key } });
    if (c.sort) {
      th.append(h('button', { type: 'button', class: 'sort', text: c.label, on: { click: () => {
        dir = sortKey === c.key ? -dir : 1;
        sortKey = c.key;
        refresh();
      } } }));
    } else {
      th.textContent = c.label;
    }
    return th;
  });
  const table = h('table', 'data', caption ? h('caption', { text: caption }) : null,
    h('thead', null, h('tr', null, ths)), tbody);
  function refresh() {
    const col = columns.find((c) => c.key === sortKey);
    const list = !col ? rows : [...rows].sort((a, b) => {
      const va = col.sort(a), vb = col.sort(b);
      if (va == null || vb == null) return (va == null) - (vb == null); // unknowns last
      return dir * compare(va, vb);
    });
    for (const th of ths) {
      if (th.dataset.key === sortKey) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    tbody.replaceChildren(...list.map((r) => {
      const tr = h('tr', rowAttrs ? rowAttrs(r) : null);
      for (const c of columns) tr.append(h('td', { class: c.class }, c.cell(r)));
      return tr;
    }));
  }
  return { node: table, setRows(r) { rows = r; refresh(); }, refresh };
}

function compare(a, b) {
  if (a == null || b == null) return (a == null) - (b == null);
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i], b[i]);
      if (c) return c;
    }
    return a.length - b.length;
  }
  return typeof a === 'string' ? a.localeCompare(b, 'vi') : a - b;
}

// An <a download> the browser follows with the session cookie (same origin).
export function downloadLink(href, label, testid) {
  return h('a', { href, text: label, class: 'button', attrs: { download: '', 'data-testid': testid } });
}
