// The dashboard's shell: the session (sign-in, sign-out, expiry), the header (navigation by
// role, the service's clock in the province's time zone, language), and the router
// (#/overview, #/site/<id>, #/setup/<id>, #/records, #/cameras, #/users) that mounts one view at a time.
// A view is a module whose mount(root, params) builds it and returns its unmount function.
import { h, $, setText, clear } from './js/dom.js';
import { get, post, setSession, currentSession, whenLoginRequired, mayView, homeView, menuViews, ApiError } from './js/api.js';
import { t, setLang, currentLang, fmtDateTime, roleLabel, timeZone } from './js/i18n.js';
import { loadStatus, startEvents, stopEvents, serverNow, onPoll } from './js/data.js';
import * as overview from './js/overview.js';
import * as site from './js/site.js';
import * as setup from './js/setup.js';
import * as records from './js/records.js';
import * as cameras from './js/cameras.js';
import * as users from './js/users.js';

const VIEWS = { overview, site, setup, records, cameras, users };
let unmount = null;
let lastOk = null;

// ---- Static texts (data-i18n) and the language ----
function applyStatic() {
  const T = t();
  document.documentElement.lang = currentLang();
  document.title = T.title;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = T[e.dataset.i18n];
  for (const b of [$('lang'), $('login-lang')]) {
    b.textContent = T.other;
    b.lang = T.otherCode;
  }
}
function switchLang() {
  setLang(currentLang() === 'vi' ? 'en' : 'vi');
  applyStatic();
  if (currentSession()) { renderHeader(); route(); }
}

// ---- Session ----
function showLogin(note) {
  if (unmount) { unmount(); unmount = null; }
  stopEvents();
  clear($('view'));
  $('top').hidden = true;
  $('login').hidden = false;
  $('login-note').hidden = !note;
  $('login-note').textContent = note ?? '';
  $('login-error').hidden = true;
  $('login-password').value = '';
  $('login-user').focus();
}

async function signIn(e) {
  e.preventDefault();
  const T = t(), err = $('login-error'), btn = e.submitter ?? $('login-form').querySelector('button[type=submit]');
  err.hidden = true;
  btn.disabled = true;
  try {
    const s = await post('/api/v1/login', { user: $('login-user').value.trim(), password: $('login-password').value });
    setSession(s);
    $('login-password').value = '';
    await enter();
  } catch (x) {
    err.textContent = x.status === 401 ? T.badCredentials
      : x.status === 429 ? T.tooMany(Number(x.retryAfter) || 60) : T.loginFailed;
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

async function signOut() {
  try { await post('/api/v1/logout'); } catch { /* gone either way */ }
  setSession(null);
  history.replaceState(null, '', '#/');
  showLogin();
}

async function enter() {
  renderHeader();
  $('login').hidden = true;
  $('top').hidden = false;
  try {
    const st = await loadStatus(); // the time zone, before any time is shown
    $('degraded').hidden = !st.detector?.degraded;
    setText($('degraded-msg'), st.detector?.message ?? '');
  } catch { /* the default time zone stands */ }
  if (!currentSession()) return; // signed out meanwhile
  startEvents();
  tickClock();
  route();
}

// ---- Header ----
function renderHeader() {
  const T = t(), s = currentSession();
  const nav = $('nav');
  nav.replaceChildren(...menuViews().map((v) => h('a', { href: `#/${v}`, text: T.views[v], dataset: { view: v } })));
  setText($('who'), `${s.user} · ${roleLabel(s.role)}`);
  $('who').dataset.role = s.role;
  tickClock();
}
function tickClock() {
  if (!currentSession()) return;
  setText($('clock'), `${t().serverTime}: ${fmtDateTime(serverNow())}`);
  $('clock').title = timeZone();
}

// ---- Router ----
function route() {
  const s = currentSession();
  if (!s) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = parts[0] || homeView();
  if (unmount) { unmount(); unmount = null; }
  window.scrollTo(0, 0);
  for (const a of $('nav').children) a.classList.toggle('active', a.dataset.view === name);
  const root = $('view');
  const T = t();
  if (!VIEWS[name]) {
    clear(root, h('p', { class: 'panel-msg', text: T.notFound }));
    return;
  }
  if (!mayView(name)) {
    clear(root, h('div', { class: 'panel-msg forbidden', attrs: { 'data-testid': 'forbidden', role: 'alert' } },
      h('p', { text: T.forbiddenView(roleLabel(s.role)) }),
      h('a', { href: `#/${homeView()}`, text: T.views[homeView()] })));
    return;
  }
  // A title per view, so that tabs, history and bookmarks say which page they are.
  document.title = [parts[1], T.views[name], T.title].filter(Boolean).join(' — ');
  unmount = VIEWS[name].mount(root, parts.slice(1));
}

// ---- Connection banner: the site poll failing ----
onPoll((sites) => {
  const e = $('error');
  if (!sites.error) { lastOk = sites.at; e.hidden = true; return; }
  if (sites.error instanceof ApiError && sites.error.status === 401) return;
  e.textContent = t().error(lastOk == null ? '—' : fmtDateTime(lastOk));
  e.hidden = false;
});

// ---- Wiring ----
whenLoginRequired(() => { setSession(null); showLogin(t().sessionExpired); });
$('login-form').addEventListener('submit', signIn);
$('lang').addEventListener('click', switchLang);
$('login-lang').addEventListener('click', switchLang);
$('logout').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
setInterval(tickClock, 1000);

applyStatic();
get('/api/v1/session').then((s) => { setSession(s); return enter(); })
  .catch(() => showLogin());
