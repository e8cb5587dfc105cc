// The date field of the pages that choose a day (the auditor's records, a site's timeline).
import { h } from './dom.js';
import { t, fmtDay, parseDay } from './i18n.js';

// A calendar drawn as SVG (an emoji needs a font the sites' browsers may lack).
function calendarIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true',
    fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 })) svg.setAttribute(k, v);
  for (const d of ['M2 4h12v10H2z', 'M2 7h12', 'M5 2v3M11 2v3']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

// A date field that shows and takes dd/mm/yyyy whatever the browser's locale (a native
// <input type=date> shows mm/dd/yyyy in an en-US browser), with a button that opens the
// browser's calendar on a hidden native input. `onChange` gets YYYY-MM-DD, or '' when
// emptied; a text that is not a real day, or one after `max` (YYYY-MM-DD), is flagged and
// not taken. The element's setDay(iso) sets it from the page without calling onChange.
export function dayInput(value, onChange, testid, { max = '' } = {}) {
  const T = t();
  const text = h('input', { type: 'text', value: value ? fmtDay(value) : '', placeholder: T.datePlaceholder,
    inputMode: 'numeric', autocomplete: 'off', title: T.dateHint, size: 10, maxLength: 10,
    attrs: { 'aria-label': `${T.date} (${T.datePlaceholder})`, 'data-testid': testid } });
  const native = h('input', { type: 'date', tabIndex: -1, value: value || '', max, attrs: { 'aria-hidden': 'true' },
    style: 'position:absolute;width:1px;height:1px;opacity:0;pointer-events:none;border:0;padding:0' });
  const pick = h('button', { type: 'button', class: 'small', title: T.pickDate,
    attrs: { 'aria-label': T.pickDate, 'data-testid': testid && `${testid}-pick` } }, calendarIcon());
  let current = value || '';
  const take = (iso) => {
    text.setCustomValidity('');
    text.removeAttribute('aria-invalid');
    text.value = iso ? fmtDay(iso) : '';
    if (iso !== current) { current = iso; onChange(iso); }
  };
  text.addEventListener('change', () => {
    if (!text.value.trim()) return take('');
    const iso = parseDay(text.value);
    if (iso && (!max || iso <= max)) return take(iso);
    text.setCustomValidity(T.badDate);
    text.setAttribute('aria-invalid', 'true');
    text.reportValidity();
  });
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter') text.dispatchEvent(new Event('change')); });
  native.addEventListener('change', () => take(native.value));
  pick.addEventListener('click', () => {
    native.value = current;
    try { native.showPicker(); } catch { native.focus(); native.click(); }
  });
  const el = h('span', { class: 'day-input', style: 'position:relative;display:inline-flex;gap:4px;align-items:center' },
    text, pick, native);
  el.setDay = (iso) => { current = iso; text.value = iso ? fmtDay(iso) : ''; };
  return el;
}
