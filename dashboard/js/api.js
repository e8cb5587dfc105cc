// The service's JSON API as the dashboard uses it: the session (an HttpOnly cookie the
// browser keeps, and the CSRF token every POST must carry), errors as ApiError values with
// the service's code, and which role may use what (a mirror of the service's rules, so that
// a view offers only what will be allowed; the service decides).

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let session = null; // {user, role, capabilities, csrf_token}
let onLoginRequired = () => {};

export const currentSession = () => session;
export function setSession(s) { session = s; }
// Called when a request finds the session gone (expired, or signed out elsewhere).
export function whenLoginRequired(fn) { onLoginRequired = fn; }

export async function request(method, url, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = session?.csrf_token ?? '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(url, {
      method, headers, cache: 'no-store', credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout?.(15000), // a hung connection must not stall a view
    });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  if (r.ok) return r.status === 204 ? null : r.json();
  let j = {};
  try { j = await r.json(); } catch { /* not JSON: the status says enough */ }
  const err = new ApiError(r.status, j.code ?? `http_${r.status}`, j.message, r.headers.get('Retry-After'));
  if (r.status === 401 && err.code === 'login_required' && session) onLoginRequired();
  throw err;
}
export const get = (url) => request('GET', url);
export const post = (url, body) => request('POST', url, body ?? {});

// What the session may do: the capabilities the service lists for it (its route table), so
// that a view offers only what will be allowed. The service decides; no role is named here.
export const can = (capability) => Boolean(session?.capabilities?.includes(capability));
// The dashboard's views, each with the capability it needs; all but a site's page and its
// counting setup are in the menu.
const VIEWS = { overview: 'records', site: 'sites', setup: 'setup', records: 'ledger', cameras: 'live', users: 'users' };
export const mayView = (view) => can(VIEWS[view]);
export const menuViews = () => ['overview', 'records', 'cameras', 'users'].filter(mayView);
// Where a session starts: the records for those who correct them, the overview for those who
// read them, the cameras for those who look after them.
export const homeView = () => (can('correct') ? 'records' : can('records') ? 'overview' : can('live') ? 'cameras' : 'overview');

export const enc = encodeURIComponent;
