// Administrator's list of users and their roles (GET /api/v1/users: name, role, disabled,
// created_ms). Users are added, changed and disabled with the service's command line
// (`attendance-server users add NAME --role ROLE`, `passwd`, `disable`).
import { h, clear } from './dom.js';
import { get } from './api.js';
import { t, roleLabel, fmtDateTime } from './i18n.js';

export function mount(root) {
  const T = t();
  const box = h('div', { attrs: { 'data-testid': 'users' } }, h('p', { class: 'muted', text: T.loading }));
  clear(root, h('section', { class: 'users', attrs: { 'data-testid': 'view-users' } },
    h('div', 'toolbar', h('h2', { text: T.usersTitle })), h('section', 'card', box)));
  get('/api/v1/users').then((r) => {
    const cols = [T.colUser, T.colRole, T.colState, T.colCreated];
    clear(box, h('div', 'table-wrap', h('table', 'data',
      h('thead', null, h('tr', null, cols.map((c) => h('th', { text: c, attrs: { scope: 'col' } })))),
      h('tbody', null, (r.users ?? []).map((u) => h('tr', { dataset: { user: u.name }, class: u.disabled ? 'disabled' : null },
        h('td', { text: u.name }), h('td', { text: roleLabel(u.role) }),
        h('td', null, h('span', { class: `badge ${u.disabled ? 'short' : 'ok'}`, text: u.disabled ? T.userDisabled : T.userActive })),
        h('td', { text: u.created_ms ? fmtDateTime(u.created_ms) : '—' })))))));
  }).catch((e) => clear(box, h('p', { class: 'form-error', text: T.requestFailed(e.code) })));
  return () => {};
}
