// Administrator's users: the list (GET /api/v1/users: name, role, disabled, created_ms, with
// the roles and the name and password rules the service holds), a form to add a user
// (POST /api/v1/users) and, per user, enable or disable, change the role, set a new password
// (POST /api/v1/users/<name>). The service decides (an admin cannot disable or demote
// themself; names and passwords follow its rules) and every change ends that user's sessions;
// its refusals are shown in the page's language. The service's command line does the same
// (`attendance-server users add NAME --role ROLE`, `passwd`, `disable`).
import { h, clear } from './dom.js';
import { get, post, currentSession, enc, ApiError } from './api.js';
import { t, roleLabel, fmtDateTime } from './i18n.js';
import { showDialog } from './rollcalls.js';

// What the page says about a refused request: the service's code in the page's language.
function errorText(e, rules) {
  const T = t();
  if (e instanceof ApiError && e.status === 403) return e.code === 'csrf' ? T.csrfError : T.forbiddenApi;
  const known = T.userErrors[e?.code];
  if (typeof known === 'function') return known(rules);
  return known ?? T.requestFailed(e?.code ?? '?');
}

export function mount(root) {
  const T = t();
  let live = true;
  let rules = { roles: [], name_max_chars: null, password_min_chars: null };
  const box = h('div', { attrs: { 'data-testid': 'users' } }, h('p', { class: 'muted', text: T.loading }));
  const msg = h('p', { class: 'users-msg', hidden: true, attrs: { role: 'status', 'data-testid': 'users-msg' } });
  const say = (text, kind) => {
    msg.textContent = text;
    msg.className = `users-msg ${kind === 'error' ? 'form-error' : 'ok'}`;
    msg.dataset.kind = kind;
    msg.hidden = false;
  };

  // ---- Adding a user ----
  const name = h('input', { name: 'name', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: false,
    attrs: { 'data-testid': 'new-user-name' } });
  const role = h('select', { name: 'role', required: true, attrs: { 'data-testid': 'new-user-role' } });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password',
    attrs: { 'data-testid': 'new-user-password' } });
  const addBtn = h('button', { type: 'submit', class: 'primary', text: T.addUser, attrs: { 'data-testid': 'add-user' } });
  const addMsg = h('p', { class: 'form-error', hidden: true, attrs: { role: 'alert', 'data-testid': 'add-user-error' } });
  const ruleText = h('p', { class: 'muted rules', attrs: { 'data-testid': 'user-rules' } });
  const form = h('form', { class: 'users-add', attrs: { 'data-testid': 'add-user-form' } },
    h('label', null, h('span', { text: T.colUser }), name),
    h('label', null, h('span', { text: T.colRole }), role),
    h('label', null, h('span', { text: T.password }), password),
    addBtn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    addMsg.hidden = true;
    addBtn.disabled = true;
    try {
      const r = await post('/api/v1/users', { name: name.value.trim(), role: role.value, password: password.value });
      form.reset();
      say(T.userAdded(r.user.name), 'ok');
      await load();
    } catch (err) {
      addMsg.textContent = errorText(err, rules);
      addMsg.hidden = false;
    } finally {
      addBtn.disabled = false;
    }
  });

  clear(root, h('section', { class: 'users', attrs: { 'data-testid': 'view-users' } },
    h('div', 'toolbar', h('h2', { text: T.usersTitle })),
    h('section', 'card', h('h3', { text: T.addUserTitle }), form, ruleText, addMsg),
    h('section', 'card', msg, box, h('p', { class: 'muted rules', text: T.usersCli, attrs: { 'data-testid': 'users-cli' } }))));

  // ---- Changing a user ----
  async function change(user, body, done) {
    msg.hidden = true;
    try {
      await post(`/api/v1/users/${enc(user)}`, body);
      if (!live) return;
      say(T.userSaved(user), 'ok');
      done?.();
      await load();
    } catch (err) {
      if (!live) return;
      say(errorText(err, rules), 'error');
      await load(); // the row as the service has it
    }
  }

  function resetPassword(user) {
    const input = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password',
      minLength: rules.password_min_chars ?? undefined, attrs: { 'data-testid': 'reset-password-input' } });
    const err = h('p', { class: 'form-error', hidden: true, attrs: { role: 'alert' } });
    const save = h('button', { type: 'submit', class: 'primary', text: T.save, attrs: { 'data-testid': 'reset-password-save' } });
    const cancel = h('button', { type: 'button', text: T.cancel });
    const f = h('form', { class: 'password-reset', method: 'dialog' },
      h('label', null, h('span', { text: T.newPassword }), input),
      h('p', { class: 'muted', text: `${T.passwordRule(rules.password_min_chars)} ${T.sessionsEnd}` }),
      err, h('div', 'actions', cancel, save));
    const d = showDialog(T.resetPasswordTitle(user), f, { testid: 'reset-password-dialog' });
    cancel.addEventListener('click', () => d.close());
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      save.disabled = true;
      err.hidden = true;
      try {
        await post(`/api/v1/users/${enc(user)}`, { password: input.value });
        d.close();
        if (!live) return;
        say(T.userSaved(user), 'ok');
        await load();
      } catch (x) {
        err.textContent = errorText(x, rules);
        err.hidden = false;
        save.disabled = false;
      }
    });
  }

  function row(u) {
    const me = u.name === currentSession()?.user;
    const roleSelect = h('select', { attrs: { 'aria-label': `${T.colRole}: ${u.name}`, 'data-testid': 'role-select' } },
      rules.roles.map((r) => h('option', { value: r, text: roleLabel(r), selected: r === u.role })));
    roleSelect.addEventListener('change', () => change(u.name, { role: roleSelect.value }));
    return h('tr', { dataset: { user: u.name, disabled: u.disabled ? '1' : '0' }, class: u.disabled ? 'disabled' : null },
      h('td', null, u.name, me ? h('span', { class: 'you', text: T.youTag }) : null),
      h('td', null, roleSelect),
      h('td', null, h('span', { class: `badge ${u.disabled ? 'short' : 'ok'}`, text: u.disabled ? T.userDisabled : T.userActive,
        attrs: { 'data-testid': 'user-state' } })),
      h('td', { text: u.created_ms ? fmtDateTime(u.created_ms) : '—' }),
      h('td', 'user-actions',
        h('button', { type: 'button', class: 'small', text: u.disabled ? T.enableUser : T.disableUser,
          attrs: { 'data-testid': 'toggle-disabled' }, on: { click: () => change(u.name, { disabled: !u.disabled }) } }),
        h('button', { type: 'button', class: 'small', text: T.resetPassword,
          attrs: { 'data-testid': 'reset-password' }, on: { click: () => resetPassword(u.name) } })));
  }

  async function load() {
    try {
      const r = await get('/api/v1/users');
      if (!live) return;
      rules = { roles: r.roles ?? [], name_max_chars: r.name_max_chars, password_min_chars: r.password_min_chars };
      if (!role.options.length) {
        role.append(...rules.roles.map((x) => h('option', { value: x, text: roleLabel(x) })));
      }
      if (rules.password_min_chars) password.minLength = rules.password_min_chars;
      if (rules.name_max_chars) name.maxLength = rules.name_max_chars;
      ruleText.textContent = `${T.nameRule(rules.name_max_chars)} ${T.passwordRule(rules.password_min_chars)}`;
      const cols = [T.colUser, T.colRole, T.colState, T.colCreated, T.colActions];
      clear(box, h('div', 'table-wrap', h('table', 'data',
        h('thead', null, h('tr', null, cols.map((c) => h('th', { text: c, attrs: { scope: 'col' } })))),
        h('tbody', null, (r.users ?? []).map(row)))));
    } catch (e) {
      if (live) clear(box, h('p', { class: 'form-error', text: errorText(e, rules) }));
    }
  }
  load();
  return () => { live = false; };
}
