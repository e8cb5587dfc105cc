// The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core)
// against a real attendance-server: each role logs in and sees what it may see, is refused
// what it may not (in the UI and straight at the API), the language switches, an export
// downloads; a screenshot of each view at 1366x768 and at phone size goes to ATT_ARTIFACTS.
// scripts/browser_test.sh starts the service, the users and the simulated sites, then this.
//
// Environment: ATT_BASE_URL, ATT_ARTIFACTS, ATT_USERS (JSON {role: {user, password}}),
// ATT_SITE_KEYS (the service's site keys CSV), ATT_SIM_SITES (sites attendance-sim feeds,
// comma-separated), ATT_DARK_JPEG and ATT_ROOM_JPEG (pictures for the fake nodes: a dark
// camera's and an ordinary one's), ATT_REAL_FRAMES (1 when the simulated sites send real
// classroom pictures), ATT_CHROMIUM (default /usr/bin/chromium), ATT_ONLY (see test()).
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FakeNode } from './fake_node.mjs';

const env = process.env;
const BASE = env.ATT_BASE_URL;
const ART = env.ATT_ARTIFACTS;
const USERS = JSON.parse(env.ATT_USERS);
const SIM_SITES = env.ATT_SIM_SITES.split(',');
const REAL_FRAMES = env.ATT_REAL_FRAMES === '1';
const TZ = 'Asia/Ho_Chi_Minh';
const node = new FakeNode(BASE, env.ATT_SITE_KEYS);
const darkPicture = readFileSync(env.ATT_DARK_JPEG), roomPicture = readFileSync(env.ATT_ROOM_JPEG);
mkdirSync(ART, { recursive: true });

// The browser is set to another time zone and language than the province's: the dashboard
// must show Vietnamese and the province's clock anyway.
const BROWSER = { timezoneId: 'Europe/London', locale: 'en-GB', acceptDownloads: true };
const DESKTOP = { ...BROWSER, viewport: { width: 1366, height: 768 } };
const PHONE = { ...BROWSER, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

// Sites the fake nodes play (attendance-sim feeds SIM_SITES, all in the first district).
const DARK = 'sh-02', NO_PICTURE = 'mt-01', GONE = 'mt-02', BACKLOG = 'pt-01', STALE = 'td-03', REFUSED = 'td-04';
// Sites whose counting a technician sets up (a poster on the wall), one per screen size.
const POSTER = { desktop: 'sh-03', phone: 'sh-04' };

// ---- A small harness: named tests in order, each failure with a screenshot ----
const results = [];
const pages = new Set();
let browser;
class Skip extends Error {}
function check(cond, msg) { if (!cond) throw new Error(msg); }
function eq(actual, expected, msg) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}
// ATT_ONLY (a regular expression): only the tests whose names match, while working on them.
const ONLY = env.ATT_ONLY ? new RegExp(env.ATT_ONLY) : null;
async function test(name, fn) {
  if (ONLY && !ONLY.test(name)) return;
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, status: 'ok' });
    console.log(`ok    ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    if (e instanceof Skip) {
      results.push({ name, status: 'skipped', why: e.message });
      console.log(`skip  ${name}: ${e.message}`);
      return;
    }
    results.push({ name, status: 'FAILED', why: e.message });
    console.log(`FAIL  ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${e.stack}`);
    let i = 0;
    for (const p of pages) {
      const file = join(ART, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}-${i++}.png`);
      await p.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`      screenshot: ${file} (${p.url()})`);
    }
  } finally {
    for (const p of [...pages]) await p.context().close().catch(() => {});
    pages.clear();
  }
}

// A fresh browser (no cookies, no stored language); uncaught page errors fail the test.
async function open(device = DESKTOP) {
  const ctx = await browser.newContext(device);
  const page = await ctx.newPage();
  page.setDefaultTimeout(30_000);
  page.jsErrors = [];
  page.on('pageerror', (e) => page.jsErrors.push(e.message));
  pages.add(page);
  return page;
}
function noJsErrors(page) { eq(page.jsErrors, [], 'uncaught errors in the page'); }
async function login(page, role) {
  await page.goto(`${BASE}/`);
  await page.locator('#login-user').fill(USERS[role].user);
  await page.locator('#login-password').fill(USERS[role].password);
  await page.locator('[data-testid=login-submit]').click();
  await page.locator('#top').waitFor({ state: 'visible' });
  await page.locator('[data-testid=who][data-role]').waitFor({ state: 'attached' }); // hidden on a phone
  eq(await page.locator('[data-testid=who]').getAttribute('data-role'), role, 'signed in as');
}
async function shot(page, name, fullPage = false) {
  await page.waitForTimeout(300); // let images and the chart settle
  const file = join(ART, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`      screenshot: ${file}`);
}
const navViews = (page) => page.locator('[data-testid=nav] a').evaluateAll((as) => as.map((a) => a.dataset.view));
async function forbiddenInUi(page, views) {
  for (const v of views) {
    await page.goto(`${BASE}/#/${v}`);
    await page.locator('[data-testid=forbidden]').waitFor();
    eq(await page.locator(`[data-testid=view-${v}]`).count(), 0, `#/${v} must not be built`);
  }
}

// Straight at the API with the page's cookies (and its CSRF token when `csrf`).
async function api(page, method, path, { csrf, body } = {}) {
  const headers = csrf ? { 'X-CSRF-Token': csrf } : {};
  const req = page.context().request;
  const r = method === 'GET'
    ? await req.get(BASE + path, { headers, failOnStatusCode: false })
    : await req.post(BASE + path, { headers, data: body ?? {}, failOnStatusCode: false });
  let json = null;
  try { json = await r.json(); } catch { /* not JSON */ }
  return { status: r.status(), code: json?.code, json, type: r.headers()['content-type'] ?? '' };
}
const csrfOf = async (page) => (await api(page, 'GET', '/api/v1/session')).json.csrf_token;
async function expectApi(page, method, path, status, code, opts) {
  const r = await api(page, method, path, opts);
  eq([r.status, r.code], [status, code], `${method} ${path}`);
  return r;
}
async function until(what, fn, timeoutMs = 60_000, everyMs = 1000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---- The fake nodes: a dark camera, a camera giving nothing, a node gone, a backlog, a node
// whose counts the service refuses ----
let evidenceUrl = null;
let fakeTimer = 0, darkSince = 0;
async function keepFakeNodesAlive() {
  if (darkSince) await node.frame(DARK, darkPicture, { flags: ['dark'] });
  await node.frame(BACKLOG, roomPicture);
  await node.heartbeat(NO_PICTURE, { state: 'no_frames',
    camera: { playing: false, last_error: 'Could not open resource for reading [source /srv/att/cameras/hall-2.mp4]', last_frame_ms: 0, last_frame_age_s: -1 } });
  await node.heartbeat(BACKLOG, { spool: { items: 37, bytes: 5_452_595, dropped: 5 }, counters: { queue_dropped: 0 } });
  await node.countFromUnknownModel(REFUSED);
}
async function startFakeNodes() {
  // Gone: one report at the start, none after. Stale: its only frame is three minutes old.
  await node.heartbeat(GONE, { capturedMs: Date.now() - 300_000 });
  await node.frame(STALE, roomPicture, { capturedMs: Date.now() - 180_000 });
  // Spool drops are reported once, as the node's X-Spool-Dropped.
  await node.heartbeat(BACKLOG, { dropped: 5, spool: { items: 37, bytes: 5_452_595, dropped: 5 } });
  await keepFakeNodesAlive();
  fakeTimer = setInterval(() => keepFakeNodesAlive().catch((e) => console.log(`fake nodes: ${e.message}`)), 5000);
}
// The dark camera's first frames: captured over the last 70 s, in order, longer than the test
// configuration's camera_fault_minutes (1), so the service opens a camera-fault alert at once;
// then a dark frame every 5 s.
async function darkForAMinute() {
  if (darkSince) return;
  const now = Date.now();
  for (let t = now - 70_000; t <= now; t += 10_000) await node.frame(DARK, darkPicture, { capturedMs: t, flags: ['dark'] });
  darkSince = now;
}

// ---- The auditor's pages as a person reads them (a usability review): one date format per
// language everywhere, "—" where a session had no data, the evidence dialog with its count and
// the picture's SHA-256, export files named after what they hold, roll calls without a
// picture grouped per time, and date fields in dd/mm/yyyy whatever the browser's locale ----
const provinceDay = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(ms); // YYYY-MM-DD
const dmy = (iso) => iso.split('-').reverse().join('/');
const asciiSlug = (s) => s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd')
  .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
async function auditorReadsRecords(device, tag) {
  // An en-US browser: a native date input would show mm/dd/yyyy.
  const page = await open({ ...device, locale: 'en-US' });
  await login(page, 'auditor');
  await page.locator('[data-testid=ledger-status][data-intact="1"]').waitFor();
  const today = provinceDay(Date.now()), yesterday = provinceDay(Date.now() - 86_400_000);
  const DMY = /^\d{2}\/\d{2}\/\d{4}$/;

  // 6. The date field takes and shows dd/mm/yyyy; the API still gets YYYY-MM-DD.
  const date = page.locator('[data-testid=records-date]');
  eq([await date.getAttribute('type'), await date.getAttribute('placeholder')], ['text', 'dd/mm/yyyy'], 'the date field');
  await date.fill('31/02/2027');
  await date.press('Enter');
  eq(await date.getAttribute('aria-invalid'), 'true', '31/02/2027 is flagged');
  const asked = page.waitForRequest((r) => r.url().includes(`/api/v1/summaries?date=${yesterday}`));
  await date.fill(dmy(yesterday).replace(/^0/, ''));  // "3/12/2026" is taken too, and written back in full
  await date.press('Enter');
  await asked;
  eq([await date.inputValue(), await date.getAttribute('aria-invalid')], [dmy(yesterday), null], 'the date as taken');

  // 1 and 2. Yesterday's sessions: its dates as dd/mm/yyyy; a session without a frame shows "—".
  const sessions = page.locator('[data-testid=sessions] table.sessions tbody tr');
  await sessions.first().waitFor();
  const summaries = (await api(page, 'GET', `/api/v1/summaries?date=${yesterday}`)).json.summaries;
  const empty = summaries.find((x) => x.frames === 0);
  check(empty, 'yesterday has a session without frames');
  eq([empty.peak, empty.median, empty.minimum, empty.attendance_rate, empty.late_start, empty.early_leave],
    [null, null, null, null, null, null], `the service's summary of ${empty.site_id} without frames`);
  const dates = await page.locator('[data-testid=sessions] tbody tr td:nth-child(2)').allTextContents();
  check(dates.length && dates.every((d) => d === dmy(yesterday)), `session dates: ${[...new Set(dates)].join(', ')}`);
  const cells = await page.locator(`[data-testid=sessions] tbody tr[data-site="${empty.site_id}"] td`).allTextContents();
  eq(cells.slice(5), ['—', '—', '—', '—', '—', '—'], `${empty.site_id}'s peak, median, minimum, rate, late, early`);
  await page.locator('[data-testid=sessions]').scrollIntoViewIfNeeded();
  await shot(page, `auditor-usability-sessions-${tag}`);

  // 5. Today's roll calls at every site: those without a picture are one line per time.
  const loaded = page.waitForResponse((r) => r.url().endsWith('/api/v1/roll-calls'));
  await date.fill('');
  await date.press('Enter');
  await loaded;
  const groups = page.locator('[data-testid=records-roll-calls] tr[data-testid=no-picture-group]', { hasText: dmy(today) });
  await groups.first().waitFor();
  const n = Number(await groups.first().getAttribute('data-count'));
  check(n > 100, `the first group holds the sites without a picture (${n})`);
  check(/^\d+ điểm cầu không có hình lúc \d{2}:\d{2} \(\d{2}\/\d{2}\/\d{4}\)/.test(await groups.first().textContent()),
    `the group's line: ${await groups.first().textContent()}`);
  const visible = await page.locator('[data-testid=records-roll-calls] tbody tr:visible').count();
  const all = (await api(page, 'GET', `/api/v1/roll-calls?date=${today}`)).json.roll_calls.length;
  check(visible * 5 < Math.min(all, 200 * 5), `${visible} lines in sight of ${all} roll calls`);
  check(await page.locator('[data-testid=records-roll-calls] tbody tr:visible button.thumb').count() > 0,
    'roll calls with evidence are in sight');
  const rcDates = await page.locator('[data-testid=records-roll-calls] tbody tr[data-subject]:visible td:nth-child(2)').allTextContents();
  check(rcDates.every((d) => DMY.test(d)), `roll call dates: ${[...new Set(rcDates)].join(', ')}`);
  await groups.first().locator('[data-testid=no-picture-toggle]').click();
  eq(await groups.first().locator('xpath=following-sibling::tr[contains(@class,"in-group")][not(@hidden)]').count(), n, 'the group opened');
  await shot(page, `auditor-usability-groups-${tag}`);
  await groups.first().locator('[data-testid=no-picture-toggle]').click();

  // 3. The evidence: its caption once, the count, the picture's SHA-256, which is the file's.
  const site = SIM_SITES[0];
  await page.locator('[data-testid=records-site]').selectOption(site);
  const withEvidence = (await api(page, 'GET', `/api/v1/roll-calls?site=${site}`)).json.roll_calls.filter((c) => c.evidence_url && c.evidence_sha256);
  const rc = withEvidence.findLast((c) => c.boxes.length > 0) ?? withEvidence.at(-1);
  check(rc, `a roll call with evidence at ${site}`);
  const row = page.locator(`[data-testid=records-roll-calls] tr[data-subject="${rc.subject}"]`);
  await row.locator('button.thumb').click();
  const dialog = page.locator('[data-testid=evidence-dialog]');
  await page.waitForFunction(() => document.querySelector('[data-testid=evidence-dialog] img')?.naturalWidth > 0);
  const title = await dialog.locator('h2').textContent();
  eq((await dialog.innerText()).split(title).length - 1, 1, `the caption "${title}" is shown once`);
  eq(await dialog.locator('[data-testid=evidence-count]').textContent(), `Đếm được: ${rc.counted} / ${rc.expected} người`, 'the count');
  eq(await dialog.locator('[data-testid=evidence-sha256]').textContent(), rc.evidence_sha256, 'the SHA-256 shown');
  const picture = await page.context().request.get(BASE + rc.evidence_url);
  eq(createHash('sha256').update(await picture.body()).digest('hex'), rc.evidence_sha256, 'the SHA-256 of the file served');
  // The file is the camera's picture; the boxes the count rests on are the page's, over it.
  eq(await dialog.locator('svg.boxes rect').count(), rc.boxes.length, 'the boxes drawn over the picture');
  const [natural, viewBox] = await dialog.locator('img').evaluate((img) =>
    [`0 0 ${img.naturalWidth} ${img.naturalHeight}`, img.nextElementSibling.getAttribute('viewBox')]);
  eq(viewBox, natural, 'the boxes are in the picture\'s pixels');
  await shot(page, `auditor-usability-evidence-${tag}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // 4. Export files named after the table, the scope and the day.
  const saved = async (testid) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid=${testid}]`).click()]);
    return d.suggestedFilename();
  };
  eq(await saved('export-roll-calls'), `diem-danh_${site}_${today}.csv`, 'a site\'s roll calls');
  await page.locator('[data-testid=records-site]').selectOption('');
  eq(await saved('export-roll-calls'), `diem-danh_toan-tinh_${today}.csv`, 'the province\'s roll calls');
  const district = (await api(page, 'GET', '/api/v1/sites')).json.sites.find((x) => x.id === site).district;
  await page.locator('[data-testid=records-district]').selectOption(district);
  eq(await saved('export-alerts'), `canh-bao_${asciiSlug(district)}_${today}.csv`, 'a district\'s alerts');

  // 7. A roll call of the dark camera: its count kept, and said not to count, with why.
  await until('a roll call of the dark camera, set aside', async () =>
    (await api(page, 'GET', `/api/v1/roll-calls?site=${DARK}`)).json.roll_calls.some((c) => c.set_aside.includes('dark')));
  await page.locator('[data-testid=records-district]').selectOption('');
  await page.locator('[data-testid=records-site]').selectOption(DARK);
  const aside = page.locator('[data-testid=records-roll-calls] [data-testid=set-aside]').first();
  eq(await aside.textContent(), 'không tính — camera: Tối', 'a set-aside roll call says so');
  await aside.scrollIntoViewIfNeeded();
  await shot(page, `auditor-usability-set-aside-${tag}`);
  await page.locator('[data-testid=records-site]').selectOption('');

  // The English page: the same dd/mm/yyyy, "—" for no data.
  await page.locator('[data-testid=lang]').click();
  await page.locator('[data-testid=view-records] h2', { hasText: 'Attendance records' }).waitFor();
  await page.locator('[data-testid=records-district]').selectOption('');
  await date.fill(dmy(yesterday));
  await date.press('Enter');
  await page.locator(`[data-testid=sessions] tbody tr[data-site="${empty.site_id}"]`).waitFor();
  eq(await date.getAttribute('placeholder'), 'dd/mm/yyyy', 'the English date field');
  const enDates = await page.locator('[data-testid=sessions] tbody tr td:nth-child(2)').allTextContents();
  check(enDates.every((d) => d === dmy(yesterday)), `English session dates: ${[...new Set(enDates)].join(', ')}`);
  eq((await page.locator(`[data-testid=sessions] tbody tr[data-site="${empty.site_id}"] td`).allTextContents()).slice(9),
    ['—', '—'], 'late and early in English');
  await shot(page, `auditor-usability-english-${tag}`);
  noJsErrors(page);
}

// ---- A site's page as an organizer reads it: the count said in the page's words, a camera
// at fault's count set aside with why, the detector by what it looks for, the day in
// dd/mm/yyyy; on a phone a compact header, a menu that fits, the tiles before the feed ----
async function organizerReadsASite(device, tag) {
  const page = await open({ ...device, locale: 'en-US' });
  await login(page, 'organizer');
  const phone = device === PHONE;
  await page.locator('.tile').nth(163).waitFor({ state: 'attached' });
  if (phone) {
    const header = await page.locator('#top').boundingBox();
    check(header.height <= 0.15 * 844, `the phone's header is compact (${header.height} px of 844)`);
    const nav = await page.locator('[data-testid=nav]').evaluate((n) => ({
      lines: new Set([...n.children].map((a) => Math.round(a.getBoundingClientRect().top))).size,
      wraps: [...n.children].some((a) => a.getClientRects().length > 1) }));
    eq([nav.lines, nav.wraps], [1, false], 'the menu is one line, no word wrapped');
    const tiles = await page.locator('.tile').first().boundingBox();
    const feed = await page.locator('[data-testid=alert-feed]').boundingBox();
    check(tiles.y < feed.y, `the tiles come before the alert feed (${tiles.y} < ${feed.y})`);
  }

  const site = SIM_SITES[0];
  await page.goto(`${BASE}/#/site/${site}`);
  await page.waitForFunction(() => document.querySelector('[data-testid=latest-frame] img:not([hidden])')?.naturalWidth > 0);
  await page.waitForFunction(() => document.querySelector('[data-testid=count-explain]')?.textContent);
  const latest = (await api(page, 'GET', `/api/v1/sites/${site}/latest`)).json;
  const explain = await page.locator('[data-testid=count-explain]').textContent();
  check(/^Số người \(\d+\) là số chỗ có người trong 5 phút gần nhất; khung xanh là \d+ người thấy được/.test(explain),
    `the count explained: ${explain}`);
  const detector = await page.locator('[data-testid=fact-detector]').textContent();
  check(detector && !detector.includes(latest.detector), `the detector in words, not "${latest.detector}": ${detector}`);
  eq(await page.locator('[data-testid=fact-count]').getAttribute('data-set-aside'), '0', 'a healthy camera\'s count stands');

  // The day: dd/mm/yyyy in an en-US browser; yesterday's timeline asked for from its start.
  const day = page.locator('[data-testid=day]');
  const today = provinceDay(Date.now()), yesterday = provinceDay(Date.now() - 86_400_000);
  eq([await day.getAttribute('type'), await day.inputValue()], ['text', dmy(today)], 'the day field');
  const asked = page.waitForRequest((r) => r.url().includes(`/api/v1/sites/${site}/timeline?from=`));
  await day.fill(dmy(yesterday));
  await day.press('Enter');
  const from = Number(new URL((await asked).url()).searchParams.get('from'));
  eq(provinceDay(from), yesterday, 'the timeline asked for yesterday');
  await shot(page, `organizer-site-explained-${tag}`);

  // The dark camera: its count where it stands, set aside with why.
  await page.goto(`${BASE}/#/site/${DARK}`);
  const count = page.locator('[data-testid=fact-count][data-set-aside="1"]');
  await count.waitFor();
  check(/ — không tính: Tối, số đếm không phản ánh lớp học$/.test(await count.textContent()), `the set-aside count: ${await count.textContent()}`);
  await shot(page, `organizer-site-set-aside-${tag}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the site page fits the width (overflows by ${overflow} px)`);
  noJsErrors(page);
}

// ---- Counting on a roll call's evidence picture (an auditor): one of the counter's boxes
// removed, two people it missed added, one mark undone and made again, the picture zoomed;
// the count is the service's, the marks are kept in the ledger, the site's estimate follows,
// and the export has the numbers side by side. On a phone, with a finger. ----
async function auditorCountsOnAPicture(device, tag, site) {
  const page = await open(device);
  await login(page, 'auditor');
  const phone = device === PHONE;
  const rc = await until(`a roll call with boxes on its picture at ${site}`, async () =>
    (await api(page, 'GET', `/api/v1/roll-calls?site=${site}`)).json.roll_calls
      .findLast((c) => c.evidence_url && c.boxes.length > 0 && c.counted > 0 && !c.correction), 150_000, 3000);
  await page.locator('[data-testid=records-site]').selectOption(site);
  // What the service proposes to check first, and how many checks the site still needs.
  const needed = page.locator('[data-testid=to-check]').locator('xpath=..').locator('.card-head span[data-needed]');
  await page.waitForFunction(() => document.querySelector('section.card [data-needed]')?.dataset.needed === '3');
  check((await page.locator('[data-testid=to-check] tr[data-subject], [data-testid=to-check] p').count()) > 0, 'the proposals are shown');
  const row = page.locator(`[data-testid=records-roll-calls] tr[data-subject="${rc.subject}"]`);
  await row.locator('[data-testid=count-on-picture]').click();
  const dialog = page.locator('[data-testid=count-dialog]');
  await page.waitForFunction(() => document.querySelector('[data-testid=count-dialog] img')?.naturalWidth > 0);
  const tally = dialog.locator('[data-testid=count-tally]');
  const people = async () => Number(await tally.getAttribute('data-people'));
  eq(await people(), rc.boxes.length, 'before any mark: the counter\'s boxes');
  // Where on the screen a point of the picture is.
  const onScreen = async ([x, y]) => {
    const box = await dialog.locator('img').boundingBox();
    const natural = await dialog.locator('img').evaluate((i) => [i.naturalWidth, i.naturalHeight]);
    return [box.x + (x * box.width) / natural[0], box.y + (y * box.height) / natural[1]];
  };
  const touch = async ([x, y]) => (phone ? page.touchscreen.tap(x, y) : page.mouse.click(x, y));
  // Two points of the picture away from every box, in sight.
  const natural = await dialog.locator('img').evaluate((i) => [i.naturalWidth, i.naturalHeight]);
  const free = [];
  for (let gy = 0.55; gy < 0.95 && free.length < 2; gy += 0.1) {
    for (let gx = 0.1; gx < 0.9 && free.length < 2; gx += 0.2) {
      const p = [gx * natural[0], gy * natural[1]];
      if (rc.boxes.every(([x, y, w, h]) => p[0] < x - 10 || p[0] > x + w + 10 || p[1] < y - 10 || p[1] > y + h + 10)) free.push(p);
    }
  }
  eq(free.length, 2, 'two free places on the picture');
  // The first box: its centre.
  const [bx, by, bw, bh] = rc.boxes[0];
  await touch(await onScreen([bx + bw / 2, by + bh / 2]));
  eq(await people(), rc.boxes.length - 1, 'a box removed');
  await touch(await onScreen(free[0]));
  await touch(await onScreen(free[1]));
  eq(await people(), rc.boxes.length + 1, 'two people added');
  await dialog.locator('[data-testid=count-undo]').click();
  eq(await people(), rc.boxes.length, 'the last mark undone');
  await touch(await onScreen(free[1]));
  eq(await people(), rc.boxes.length + 1, 'and made again');
  eq(await dialog.locator('svg circle').count(), 2, 'the added people are drawn');
  eq(await dialog.locator('svg rect.removed').count(), 1, 'the removed box is drawn so');
  await shot(page, `auditor-count-on-picture-${tag}`);
  await dialog.locator('[data-testid=count-zoom-in]').click();
  const [scroll, client] = await dialog.locator('[data-testid=count-frame]').evaluate((f) => [f.scrollWidth, f.clientWidth]);
  check(scroll > client * 1.3, `the picture zoomed in its frame (${scroll} of ${client} px)`);
  await shot(page, `auditor-count-on-picture-zoomed-${tag}`);
  await dialog.locator('[data-testid=count-save]').click();
  await dialog.waitFor({ state: 'detached' });

  const after = (await api(page, 'GET', `/api/v1/roll-calls?site=${site}`)).json;
  const checked = after.roll_calls.find((c) => c.subject === rc.subject);
  eq([checked.counted, checked.verified?.people, checked.verified?.removed, checked.verified?.added.length, checked.correction?.by,
    checked.correction?.counted_originally],
  [rc.boxes.length + 1, rc.boxes.length + 1, [0], 2, USERS.auditor.user, rc.counted], 'the roll call counted on its picture');
  const cal = after.calibration[site];
  eq([cal.checked, cal.counted, cal.people], [1, rc.counted, rc.boxes.length + 1], `${site}'s calibration`);
  const expect = Math.round(rc.counted * cal.ratio);
  eq(checked.estimated, expect, 'its estimate');
  await row.locator('[data-testid=verified]').waitFor();
  eq(await needed.getAttribute('data-needed'), '2', 'one check fewer needed at the site');
  eq(await row.locator('[data-testid=estimated]').textContent(), `ước tính: ${expect}`, 'the estimate beside the count');
  await page.locator('[data-testid=verify]').click();
  await page.locator('[data-testid=ledger-status][data-intact="1"]').waitFor();
  if (!phone) {  // the export: counted, checked on the picture and estimated side by side
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=export-roll-calls]').click()]);
    const file = join(ART, `auditor-export-counted-on-picture-${tag}.csv`);
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').split('\r\n');
    const head = lines[0].split(',');
    const line = lines.find((l) => l.includes(rc.evidence_sha256)).split(',');
    const col = (name) => line[head.findIndex((h) => h.includes(name))];
    eq([col('Số đếm được'), col('Số đếm khi điểm danh'), col('Số người đếm trên ảnh'), col('Số ước tính')],
      [String(rc.boxes.length + 1), String(rc.counted), String(rc.boxes.length + 1), String(expect)], 'the export\'s three numbers');
  }
  noJsErrors(page);
}

// ---- The technician sets a site up: an excluded area drawn over a "poster" (one detection of
// the room's picture) on the setup page, previewed, saved, and the next frame counts one less ----
async function technicianExcludesAPoster(device, tag) {
  const site = POSTER[tag];
  const phone = device === PHONE;
  const page = await open(device);
  await login(page, 'technician');
  // The people one frame of the room counts, at the service, as the node sends it.
  const frameCount = async () => {
    const at = Date.now();
    await node.frame(site, roomPicture, { capturedMs: at });
    const latest = await until(`${site}'s frame of ${at}`, async () => {
      const r = await api(page, 'GET', `/api/v1/sites/${site}/latest`);
      return r.status === 200 && r.json.captured_at_ms === at ? r.json : null;
    }, 30_000, 300);
    return latest;
  };
  const first = await frameCount();
  const before = first.frame_count;
  check(before > 1, `the room's picture counts people (${before})`);
  await page.goto(`${BASE}/#/site/${site}`);
  await page.locator('[data-testid=site-setup]').click();
  await page.waitForURL(`**/#/setup/${site}`);
  await page.locator('[data-testid=view-setup]').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=view-setup] .setup-picture img')?.naturalWidth > 0);
  const tally = page.locator('[data-testid=setup-tally]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=setup-tally]')?.dataset.detections) > 0);
  const shown = (await api(page, 'GET', `/api/v1/sites/${site}/setup`)).json;
  eq(Number(await tally.getAttribute('data-kept')), shown.detections.filter((d) => d.verdict === 'counted').length, 'the page shows the service\'s verdicts');
  // The "poster": the most confident detection the frame counted whose centre stands clear of
  // every other one.
  const centre = ([x, y, w, h]) => [x + w / 2, y + h / 2];
  const counted = (d) => d.verdict === 'counted' && first.boxes.some((b) => b.slice(0, 4).every((v, i) => Math.abs(v - d.box[i]) < 0.5));
  const clear = shown.detections.filter(counted).sort((a, b) => b.box[4] - a.box[4]).find((d) => {
    const [cx, cy] = centre(d.box), r = Math.min(d.box[2], d.box[3]) / 2;
    return shown.detections.every((o) => o === d || Math.hypot(centre(o.box)[0] - cx, centre(o.box)[1] - cy) > 2 * r);
  });
  check(clear, 'a detection stands clear of the others');
  const [cx, cy] = centre(clear.box), r = Math.min(clear.box[2], clear.box[3]) / 2;
  const img = page.locator('[data-testid=view-setup] .setup-picture img');
  const onScreen = async ([x, y]) => {
    const b = await img.boundingBox();
    return [b.x + (x * b.width) / shown.picture.width, b.y + (y * b.height) / shown.picture.height];
  };
  await page.locator('[data-testid=setup-kind]').selectOption('exclude');
  await page.locator('[data-testid=setup-draw]').click();
  for (const p of [[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]]) {
    await img.scrollIntoViewIfNeeded();
    const [x, y] = await onScreen(p);
    if (phone) await page.touchscreen.tap(x, y); else await page.mouse.click(x, y);
  }
  await page.locator('[data-testid=setup-zone-name]').fill('ap-phich');
  await page.locator('[data-testid=setup-finish]').click();
  // The preview: the poster's detection no longer counted, said why; nothing saved yet.
  const kept = shown.detections.filter((d) => d.verdict === 'counted').length;
  await page.waitForFunction((n) => document.querySelector('[data-testid=setup-tally]')?.dataset.kept === String(n), kept - 1);
  eq(await page.locator('[data-testid=setup-marks] rect[data-verdict=excluded]').count(), 1, 'one detection in the excluded area');
  eq(await page.locator('[data-testid=setup-zones] li[data-kind=exclude]').getAttribute('data-name'), 'ap-phich', 'the area listed');
  eq((await api(page, 'GET', `/api/v1/sites/${site}/setup`)).json.version, shown.version, 'a preview saves nothing');
  await shot(page, `technician-setup-preview-${tag}`, !phone);
  await page.locator('[data-testid=setup-save]').click();
  await page.locator('[data-testid=setup-saved]').waitFor();
  const saved = (await api(page, 'GET', `/api/v1/sites/${site}/setup`)).json;
  eq([saved.version, saved.made_by, saved.setup.exclude.map((z) => z.name)], [shown.version + 1, USERS.technician.user, ['ap-phich']], 'the saved setup');
  eq(await page.locator('[data-testid=setup-version]').getAttribute('data-version'), String(saved.version), 'the page shows the new version');
  // The next frame, without a restart: the poster's detection is no longer among the people
  // counted. (The rest may move by a box: the excluded area no longer teaches head sizes.)
  const same = (b, d) => b.slice(0, 4).every((v, i) => Math.abs(v - d.box[i]) < 0.5);
  check(first.boxes.some((b) => same(b, clear)), 'the poster was counted before');
  const next = await frameCount();
  check(!next.boxes.some((b) => same(b, clear)), 'the poster is not counted in the next frame');
  check(next.frame_count < before + 1 && next.boxes.length === next.frame_count, `the next frame's count (${next.frame_count}, ${before} before)`);
  // The page, reloaded, explains that frame's count exactly: what it keeps is what was counted.
  await page.reload();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=setup-tally]')?.dataset.detections) > 0);
  eq(Number(await tally.getAttribute('data-kept')), next.frame_count, 'the page\'s count of the picture is the frame\'s');
  eq(await page.locator('[data-testid=setup-marks] rect[data-verdict=excluded]').count(), 1, 'the poster drawn as excluded');
  await shot(page, `technician-setup-saved-${tag}`, !phone);
  noJsErrors(page);
}

// ==== The tests ====
async function run() {
  await test('the fake nodes\' signed reports are accepted', startFakeNodes);

  await test('without a session the API refuses and the dashboard offers only the login', async () => {
    for (const path of ['/api/v1/sites', '/api/v1/status', '/api/v1/roll-calls', '/api/v1/exports/roll-calls.csv',
      '/api/v1/ledger/verify', '/api/v1/users', '/api/v1/sites/tp-01/latest.jpg', '/api/v1/sites/tp-01/timeline?from=0&to=1000']) {
      const r = await fetch(BASE + path);
      eq([r.status, (await r.json()).code], [401, 'login_required'], `GET ${path} without a session`);
    }
    const live = await fetch(`${BASE}/api/v1/sites/tp-01/live`, { method: 'POST' });
    eq(live.status, 401, 'POST live without a session');
    for (const [path, type] of [['/', 'text/html'], ['/app.js', 'javascript'], ['/vendor/uPlot.iife.min.js', 'javascript'],
      ['/vendor/uPlot.min.css', 'text/css']]) {
      const r = await fetch(BASE + path);
      check(r.status === 200 && (r.headers.get('content-type') ?? '').includes(type), `GET ${path}: ${r.status} ${r.headers.get('content-type')}`);
    }
    const page = await open();
    await page.goto(`${BASE}/`);
    await page.locator('[data-testid=login-form]').waitFor();
    eq(await page.getAttribute('html', 'lang'), 'vi', 'the default language');
    eq(await page.locator('[data-testid=login-submit]').textContent(), 'Đăng nhập', 'the sign-in button');
    check(await page.locator('#top').isHidden(), 'the header stays hidden before login');
    await shot(page, 'login-desktop');
    const phone = await open(PHONE);
    await phone.goto(`${BASE}/`);
    await phone.locator('[data-testid=login-form]').waitFor();
    await shot(phone, 'login-phone');
  });

  await test('a wrong password is refused with a message', async () => {
    const page = await open();
    await page.goto(`${BASE}/`);
    await page.locator('#login-user').fill(USERS.organizer.user);
    await page.locator('#login-password').fill('not-the-password-1');
    await page.locator('[data-testid=login-submit]').click();
    await page.locator('[data-testid=login-error]').waitFor();
    eq(await page.locator('[data-testid=login-error]').textContent(), 'Sai tên đăng nhập hoặc mật khẩu.', 'the error');
    check(await page.locator('#top').isHidden(), 'no dashboard after a failed login');
    noJsErrors(page);
  });

  await test('organizer: province overview, live alerts, filters, site page; nothing else', async () => {
    const page = await open();
    await login(page, 'organizer');
    await page.locator('[data-testid=view-overview]').waitFor();
    eq(await navViews(page), ['overview'], 'the organizer\'s views');
    await page.locator('.tile').nth(163).waitFor({ state: 'attached' });
    eq(await page.locator('.tile').count(), 164, 'one tile per site');
    eq(await page.locator('section.district').count(), 8, 'districts');
    eq(await page.locator('[data-testid=totals-district] tbody tr').count(), 9, 'district totals and the province');
    eq(await page.locator('[data-testid=totals-level] tbody tr').count(), 5, 'school level totals and the province');
    // The simulated sites report; the fake dark camera shows as a camera fault.
    await page.waitForFunction((ids) => ids.every((id) => !['no_data', 'offline'].includes(
      document.querySelector(`.tile[data-id="${id}"]`)?.dataset.state)), SIM_SITES, { timeout: 60_000 });
    await page.locator(`.tile[data-id="${GONE}"][data-state="offline"]`).waitFor();
    // The live feed: open alerts (sites silent since the period began), then new ones pushed
    // while the page is open: the dark camera's fault.
    await page.locator('[data-testid=alert-feed] li').first().waitFor();
    await page.locator('.live-dot[data-connected="1"]').waitFor();
    await darkForAMinute();
    await page.locator(`.feed-item[data-site="${DARK}"][data-kind="camera_fault"][data-live="1"]`).waitFor({ timeout: 30_000 });
    await page.locator(`.tile[data-id="${DARK}"][data-state="camera_fault"]`).waitFor();
    await shot(page, 'organizer-overview-desktop');
    // Whether a class is on, said by the service; sites that need a call first, with why;
    // every rate with its base.
    await page.locator('[data-testid=class-now][data-in-class="1"]').waitFor();
    check(/Đang trong buổi học/.test(await page.locator('[data-testid=class-now]').innerText()), 'the class in progress is named');
    const box = await page.locator('[data-testid=attention]').boundingBox();
    check(box && box.y + box.height < 768, `the attention strip is above the fold at 1366x768 (${JSON.stringify(box)})`);
    if (await page.locator('[data-testid=attention-more]').count()) await page.locator('[data-testid=attention-more]').click();
    await page.locator(`[data-testid=attention] li[data-site="${DARK}"]`).waitFor();
    await page.locator(`[data-testid=attention] li[data-site="${GONE}"]`).waitFor();
    const order = await page.locator('[data-testid=attention] li[data-site]').evaluateAll((li) => li.map((l) => l.className));
    const worst = (c) => ['offline', 'camera_fault', 'short'].findIndex((k) => c.includes(k));
    check(order.every((c, i) => i === 0 || worst(order[i - 1]) <= worst(c) || worst(c) < 0), `the attention strip is worst first (${order.join(' | ')})`);

    check(/dự kiến của các điểm cầu đang có số đếm/.test(await page.locator('[data-testid=rate-base]').innerText()), 'the rate states its base');
    // Search and filters.
    await page.locator('[data-testid=search]').fill('tp-01');
    eq(await page.locator('.tile:visible').count(), 1, 'tiles matching "tp-01"');
    await page.locator('[data-testid=search]').fill('');
    await page.locator('[data-testid=district-filter]').selectOption('Mường Tè');
    eq(await page.locator('section.district:visible').count(), 1, 'districts shown for Mường Tè');
    check((await page.locator('.tile:visible').count()) > 5, 'Mường Tè has its sites');
    await page.locator('[data-testid=district-filter]').selectOption('');
    await page.locator('[data-testid=state-filter]').selectOption('camera_fault');
    check((await page.locator(`.tile[data-id="${DARK}"]`).isVisible()), 'the dark site under "camera fault"');
    check(!(await page.locator(`.tile[data-id="${GONE}"]`).isVisible()), 'an offline site hidden under "camera fault"');
    await page.locator('[data-testid=state-filter]').selectOption('');
    // Click through to a site.
    const site = SIM_SITES[0];
    await page.locator(`.tile[data-id="${site}"]`).click();
    await page.waitForURL(`**/#/site/${site}`);
    await page.locator('[data-testid=view-site]').waitFor();
    const info = (await api(page, 'GET', '/api/v1/sites')).json.sites.find((s) => s.id === site);
    eq(await page.locator('[data-testid=site-name]').textContent(), info.name, 'the site page\'s title');
    await page.waitForFunction(() => document.querySelector('[data-testid=latest-frame] img:not([hidden])')?.naturalWidth > 0);
    eq(await page.locator('[data-testid=latest-frame]').getAttribute('data-stale'), '0', 'a fresh frame does not look stale');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=timeline]')?.dataset.points) > 0);
    check(await page.locator('[data-testid=timeline] canvas').count() > 0, 'the chart is drawn');
    await page.locator('[data-testid=site-roll-calls] table, [data-testid=site-roll-calls] p').first().waitFor();
    eq(await page.locator('[data-testid=live-toggle]').count(), 0, 'no live view for organizers');
    eq(await page.locator('[data-testid=correct]').count(), 0, 'no corrections for organizers');
    await shot(page, 'organizer-site-desktop');
    // A stale frame looks stale (the fake node's only frame there is three minutes old).
    await page.goto(`${BASE}/#/site/${STALE}`);
    await page.locator('[data-testid=latest-frame][data-stale="1"]').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=latest-frame] img:not([hidden])')?.naturalWidth > 0);
    check((await page.locator('[data-testid=frame-age]').textContent()).startsWith('ẢNH CŨ'), 'the stale frame\'s label');
    eq(await page.locator('[data-testid=site-state]').getAttribute('class'), 'badge offline', 'a site whose frame is stale');
    await shot(page, 'organizer-site-stale-desktop');
    // Refused in the UI...
    await forbiddenInUi(page, ['records', 'cameras', 'users']);
    await shot(page, 'organizer-forbidden-desktop');
    // ...and straight at the API.
    const csrf = await csrfOf(page);
    for (const path of ['/api/v1/roll-calls', '/api/v1/rollup', '/api/v1/summaries', '/api/v1/alerts', `/api/v1/sites/${site}/latest`]) {
      eq((await api(page, 'GET', path)).status, 200, `GET ${path} as organizer`);
    }
    for (const path of ['/api/v1/exports/roll-calls.csv', '/api/v1/ledger/verify', '/api/v1/ledger', '/api/v1/users',
      `/api/v1/sites/${site}/live.mjpeg`]) {
      await expectApi(page, 'GET', path, 403, 'forbidden');
    }
    await expectApi(page, 'POST', `/api/v1/sites/${site}/live`, 403, 'forbidden', { csrf });
    await expectApi(page, 'POST', '/api/v1/roll-calls/corrections', 403, 'forbidden',
      { csrf, body: { subject: 'x', counted: 1, reason: 'x' } });
    await expectApi(page, 'POST', '/api/v1/roll-calls/corrections', 403, 'forbidden',
      { csrf, body: { subject: 'x', picture: { boxes: 0, removed: [], added: [[1, 1]] }, reason: 'x' } });
    noJsErrors(page);
  });

  await test('the simulated sites\' real classroom pictures are counted on the overview', async () => {
    if (!REAL_FRAMES) throw new Skip('needs ../shared/data/classroom or ../shared/data/video, absent here: the simulated sites send test pictures');
    const page = await open();
    await login(page, 'organizer');
    await page.locator('.tile').nth(163).waitFor({ state: 'attached' });
    // A windowed count needs a few frames: up to a minute.
    await page.waitForFunction((ids) => ids.some((id) => {
      const count = document.querySelector(`.tile[data-id="${id}"] .t-count`)?.textContent ?? '';
      return Number.parseInt(count, 10) > 0;
    }), SIM_SITES, { timeout: 90_000 });
    noJsErrors(page);
  });

  await test('organizer reads a site: the count explained, set aside, the day (desktop)', () => organizerReadsASite(DESKTOP, 'desktop'));
  await test('organizer reads a site: the count explained, set aside, the day (phone)', () => organizerReadsASite(PHONE, 'phone'));

  await test('organizer on a phone: overview and site page', async () => {
    const page = await open(PHONE);
    await login(page, 'organizer');
    await page.locator('.tile').nth(163).waitFor({ state: 'attached' });
    await page.locator('[data-testid=alert-feed] li').first().waitFor();
    await shot(page, 'organizer-overview-phone');
    await shot(page, 'organizer-overview-phone-full', true);
    await page.goto(`${BASE}/#/site/${SIM_SITES[0]}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=latest-frame] img:not([hidden])')?.naturalWidth > 0);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=timeline]')?.dataset.points) > 0);
    await shot(page, 'organizer-site-phone');
    await shot(page, 'organizer-site-phone-full', true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `the site page fits the phone's width (overflows by ${overflow} px)`);
    noJsErrors(page);
  });

  await test('auditor: ledger, roll calls with evidence, a correction, exports; no camera views', async () => {
    const page = await open();
    await login(page, 'auditor');
    await page.locator('[data-testid=view-records]').waitFor();
    eq(await navViews(page), ['overview', 'records'], 'the auditor\'s views');
    await page.locator('[data-testid=ledger-status][data-intact="1"]').waitFor();
    // A roll call of a simulated site with its evidence (one a minute in the test schedule).
    const site = SIM_SITES[0];
    const rc = await until(`a roll call with evidence at ${site}`, async () => {
      const r = await api(page, 'GET', `/api/v1/roll-calls?site=${site}`);
      return r.json.roll_calls.findLast((c) => c.evidence_url && c.counted != null && !c.correction);
    }, 150_000, 3000);
    evidenceUrl = rc.evidence_url;
    await page.locator('[data-testid=records-site]').selectOption(site);
    const row = page.locator(`[data-testid=records-roll-calls] tr[data-subject="${rc.subject}"]`);
    await row.waitFor();
    await shot(page, 'auditor-records-desktop');
    // The evidence picture.
    await row.locator('button.thumb').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=evidence-dialog] img')?.naturalWidth > 0);
    await shot(page, 'auditor-evidence-desktop');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=evidence-dialog]').waitFor({ state: 'detached' });
    // A correction with its reason; the roll call keeps what was taken.
    const recount = rc.counted + 3, reason = 'Đếm lại theo ảnh: 3 người ngồi khuất sau cột';
    await row.locator('[data-testid=correct]').click();
    await page.locator('[data-testid=correction-counted]').fill(String(recount));
    await page.locator('[data-testid=correction-reason]').fill(reason);
    await shot(page, 'auditor-correction-desktop');
    await page.locator('[data-testid=correction-save]').click();
    await page.locator(`[data-testid=records-roll-calls] tr.is-corrected[data-subject="${rc.subject}"]`).waitFor();
    check((await page.locator(`tr[data-subject="${rc.subject}"] .corrected`).textContent()).includes(reason), 'the reason is shown');
    const after = (await api(page, 'GET', `/api/v1/roll-calls?site=${site}`)).json.roll_calls.find((c) => c.subject === rc.subject);
    eq([after.counted, after.correction?.counted_originally, after.correction?.by, after.correction?.reason],
      [recount, rc.counted, USERS.auditor.user, reason], 'the corrected roll call');
    await page.locator('[data-testid=verify]').click();
    await page.locator('[data-testid=ledger-status][data-intact="1"]').waitFor();
    // An export, downloaded as the browser does it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=export-roll-calls]').click()]);
    const file = join(ART, 'auditor-export-roll-calls.csv');
    await download.saveAs(file);
    const csv = readFileSync(file, 'utf8');
    check(csv.startsWith('\ufeff'), 'the CSV starts with a BOM');
    check(csv.includes(site) && csv.includes('\r\n'), 'the CSV has the site\'s roll calls, CRLF lines');
    check(download.suggestedFilename().endsWith('.csv'), `download name ${download.suggestedFilename()}`);
    console.log(`      export: ${file} (${csv.split('\r\n').length - 1} lines)`);
    const report = await api(page, 'GET', await page.locator('[data-testid=report-site]').getAttribute('href'));
    check(report.status === 200 && report.type.includes('text/html'), `the printable report: ${report.status}`);
    // The site page as an auditor: roll calls with the correction offered.
    await page.goto(`${BASE}/#/site/${site}`);
    await page.locator('[data-testid=site-roll-calls] [data-testid=correct]').first().waitFor();
    await shot(page, 'auditor-site-desktop');
    // Refused in the UI and at the API.
    await forbiddenInUi(page, ['cameras', 'users']);
    const csrf = await csrfOf(page);
    for (const path of [`/api/v1/sites/${site}/live.mjpeg`, '/api/v1/users']) await expectApi(page, 'GET', path, 403, 'forbidden');
    await expectApi(page, 'POST', `/api/v1/sites/${site}/live`, 403, 'forbidden', { csrf });
    await expectApi(page, 'POST', '/api/v1/roll-calls/corrections', 403, 'csrf',
      { body: { subject: rc.subject, counted: 1, reason: 'no token' } });
    noJsErrors(page);
  });

  await test('auditor counts on a picture: a box removed, two people added, undo, zoom; stored, estimated, exported (desktop)',
    () => auditorCountsOnAPicture(DESKTOP, 'desktop', SIM_SITES[1]));
  await test('auditor counts on a picture with a finger (phone)', () => auditorCountsOnAPicture(PHONE, 'phone', SIM_SITES[2]));

  await test('auditor on a phone: records', async () => {
    const page = await open(PHONE);
    await login(page, 'auditor');
    await page.locator('[data-testid=ledger-status][data-intact="1"]').waitFor();
    await page.locator('[data-testid=records-site]').selectOption(SIM_SITES[0]);
    await page.locator('[data-testid=records-roll-calls] table').waitFor();
    await shot(page, 'auditor-records-phone');
    noJsErrors(page);
  });

  await test('auditor reads the records: dates, no data, evidence, export names, grouped no-picture rows (desktop)',
    () => auditorReadsRecords(DESKTOP, 'desktop'));
  await test('auditor reads the records: dates, no data, evidence, export names, grouped no-picture rows (phone)',
    () => auditorReadsRecords(PHONE, 'phone'));

  await test('technician: camera health by problem, live view; no records', async () => {
    const page = await open();
    await login(page, 'technician');
    await page.locator('[data-testid=view-cameras]').waitFor();
    eq(await navViews(page), ['cameras'], 'the technician\'s views');
    await darkForAMinute(); // done by the organizer's test unless it failed early
    const rows = page.locator('[data-testid=camera-table] tbody tr');
    await rows.nth(163).waitFor({ state: 'attached' });
    eq(await rows.count(), 164, 'one row per site');
    // Offline: nothing received from it for a minute (its one report came at the start).
    await page.locator(`tr[data-site="${GONE}"][data-problem="offline"]`).waitFor({ timeout: 90_000 });
    await page.locator(`tr[data-site="${NO_PICTURE}"][data-problem="no_frames"]`).waitFor();
    await page.locator(`tr[data-site="${DARK}"][data-problem="dark"]`).waitFor();
    const backlog = page.locator(`tr[data-site="${BACKLOG}"] td.num`);
    eq(await backlog.allTextContents(), ['37 (5,2 MB)', '5'], 'the backlog and drops of a node');
    await page.locator(`tr[data-site="${REFUSED}"][data-problem="refused"]`).waitFor();
    const refusal = page.locator(`tr[data-site="${REFUSED}"] [data-testid=refusal]`);
    check(/^Trung tâm từ chối \d+ lần, lần cuối .*trước$/.test(await refusal.textContent()), `the refusal shown: ${await refusal.textContent()}`);
    check(/^the node counts with 'yolo-people'/.test(await refusal.getAttribute('title')), 'the service\'s answer in the tooltip');
    const rank = ['offline', 'refused', 'no_frames', 'dark', 'covered', 'blurred', 'frozen', 'moved', 'never', 'ok'];
    const order = async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.problem))).map((p) => rank.indexOf(p));
    const asc = await order();
    check(asc.every((r, i) => i === 0 || asc[i - 1] <= r), `sorted by problem: ${asc.join(',')}`);
    eq(asc[0], 0, 'offline first');
    await shot(page, 'technician-cameras-desktop');
    await page.locator('th[data-key=problem] button').click();
    eq(await page.locator('th[data-key=problem]').getAttribute('aria-sort'), 'descending', 'the sort turned');
    const desc = await order();
    check(desc.every((r, i) => i === 0 || desc[i - 1] >= r), 'sorted by problem, worst last');
    await page.locator('[data-testid=problem-filter]').selectOption('dark');
    eq(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.site)), [DARK], 'the dark cameras');
    await page.locator('[data-testid=problem-filter]').selectOption('');
    // A site's page: the node's report and the live view, no roll calls.
    const site = SIM_SITES[0];
    await page.locator(`tr[data-site="${site}"] a`).click();
    await page.locator('[data-testid=view-site]').waitFor();
    eq(await page.locator('[data-testid=site-roll-calls]').count(), 0, 'no roll calls for technicians');
    await page.locator('[data-testid=node-report]').waitFor();
    await page.locator('[data-testid=live-toggle]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=live-image]')?.naturalWidth > 0, null, { timeout: 30_000 });
    await page.locator('.live-badge').waitFor({ state: 'visible' }); // LIVE over a picture
    await shot(page, 'technician-live-desktop');
    await page.locator('[data-testid=live-toggle]').click();
    await page.locator('[data-testid=live-image]').waitFor({ state: 'detached' });
    await page.goto(`${BASE}/#/site/${BACKLOG}`);
    await page.locator('[data-testid=node-report] dd').first().waitFor();
    await shot(page, 'technician-site-node-desktop');
    // Refused in the UI and at the API.
    await forbiddenInUi(page, ['overview', 'records', 'users']);
    await shot(page, 'technician-forbidden-desktop');
    for (const path of ['/api/v1/sites', '/api/v1/alerts', `/api/v1/sites/${site}/latest`,
      `/api/v1/sites/${site}/timeline?from=${Date.now() - 3_600_000}&to=${Date.now()}`]) {
      eq((await api(page, 'GET', path)).status, 200, `GET ${path} as technician`);
    }
    const forbidden = ['/api/v1/roll-calls', '/api/v1/summaries', '/api/v1/rollup', '/api/v1/exports/alerts.csv',
      '/api/v1/ledger/verify', `/api/v1/reports/sites/${site}.html`, '/api/v1/users'];
    if (evidenceUrl) forbidden.push(evidenceUrl);
    for (const path of forbidden) await expectApi(page, 'GET', path, 403, 'forbidden');
    await expectApi(page, 'POST', `/api/v1/sites/${site}/live`, 403, 'csrf');
    const csrf = await csrfOf(page);
    eq((await api(page, 'POST', `/api/v1/sites/${site}/live`, { csrf })).status, 200, 'POST live with the token');
    noJsErrors(page);
  });

  // The technician's pages as a person reads them (a usability review): the camera's state in
  // a few words of the page's language, its raw error (and any path) only in a tooltip, the
  // drops column on screen; a site whose node never connected says there is no live picture.
  async function technicianReadsCameras(device, tag) {
    const page = await open(device);
    await login(page, 'technician');
    const rows = page.locator('[data-testid=camera-table] tbody tr');
    await rows.nth(163).waitFor({ state: 'attached' });
    await page.locator(`tr[data-site="${NO_PICTURE}"][data-problem="no_frames"]`).waitFor();
    const cells = await page.locator('[data-testid=camera-table] tbody td').evaluateAll((tds) => tds.map((td) => td.textContent));
    const path = /(?:^|[\s\[(])(?:\/[\w.-]+){2,}|[a-z]+:\/\/\S|\.(?:mp4|mkv|avi|jpe?g)\b/i;
    const raw = /could not open|end of stream|resource for reading|\bsource\b/i;
    eq(cells.filter((c) => path.test(c) || raw.test(c)), [], 'cells with a path or a raw English error');
    if (tag === 'desktop') {
      const state = page.locator(`tr[data-site="${NO_PICTURE}"] [data-testid=camera-state]`);
      eq(await state.textContent(), 'Mất camera, đang thử lại', 'the camera\'s state in Vietnamese');
      const tip = await state.getAttribute('title');
      check(/^Lỗi gần nhất: Could not open resource for reading/.test(tip) && !tip.includes('/srv/'), `the tooltip: ${tip}`);
    }
    // At 1366 px the drops column is on screen: the table needs no sideways scroll for it.
    if (tag === 'desktop') {
      const drops = await page.locator('th[data-key=drops]').boundingBox();
      check(drops && drops.x + drops.width <= 1366, `the drops column ends at ${drops && drops.x + drops.width} of 1366 px`);
      const wrap = await page.locator('[data-testid=camera-table]').evaluate((e) => [e.scrollWidth, e.clientWidth]);
      check(wrap[0] <= wrap[1], `the camera table scrolls sideways: ${wrap.join(' > ')}`);
    }
    await shot(page, `technician-camera-words-${tag}`);

    // A site that never connected: no live picture to ask for, and no LIVE badge.
    const sites = (await api(page, 'GET', '/api/v1/sites')).json.sites;
    const never = sites.find((x) => x.problems[0] === 'never' && x.node === null && !SIM_SITES.includes(x.id));
    check(never, 'a site that never connected');
    await page.goto(`${BASE}/#/site/${never.id}`);
    const msg = page.locator('[data-testid=live-msg]');
    await msg.waitFor({ state: 'visible' });
    eq(await msg.textContent(), 'Chưa có máy tại điểm cầu kết nối nên không có hình trực tiếp.', 'the live view says no node is connected');
    check(await page.locator('[data-testid=live-toggle]').isDisabled(), 'the live button is off');
    eq(await page.locator('.live-badge').isVisible(), false, 'no LIVE badge over no picture');
    eq(await page.locator('[data-testid=live-image]').count(), 0, 'no stream opened');
    await shot(page, `technician-live-no-node-${tag}`);
    const answer = await api(page, 'POST', `/api/v1/sites/${never.id}/live`, { csrf: await csrfOf(page) });
    eq([answer.status, answer.json?.node_connected], [200, false], 'the API says no node is connected');
    check(/no capture node has ever connected/.test(answer.json?.message ?? ''), `the API's message: ${answer.json?.message}`);
    noJsErrors(page);
  }
  await test('technician excludes a poster on the setup page: previewed, saved, the next frame counts one less (desktop)',
    () => technicianExcludesAPoster(DESKTOP, 'desktop'));
  await test('technician excludes a poster with a finger (phone)', () => technicianExcludesAPoster(PHONE, 'phone'));
  await test('who may not set a site up is refused in the page and at the API', async () => {
    for (const role of ['organizer', 'auditor']) {
      const page = await open();
      await login(page, role);
      await page.goto(`${BASE}/#/site/${POSTER.desktop}`);
      await page.locator('[data-testid=view-site]').waitFor();
      eq(await page.locator('[data-testid=site-setup]').count(), 0, `no setup link for ${role}`);
      await page.goto(`${BASE}/#/setup/${POSTER.desktop}`);
      await page.locator('[data-testid=forbidden]').waitFor();
      eq(await page.locator('[data-testid=view-setup]').count(), 0, `#/setup must not be built for ${role}`);
      const csrf = await csrfOf(page);
      await expectApi(page, 'GET', `/api/v1/sites/${POSTER.desktop}/setup`, 403, 'forbidden');
      await expectApi(page, 'POST', `/api/v1/sites/${POSTER.desktop}/setup`, 403, 'forbidden',
        { csrf, body: { setup: { count: [], exclude: [], empty_reference: [], min_score: 0 }, based_on: 0 } });
      noJsErrors(page);
    }
  });
  await test('technician reads the camera table and a never-connected site (desktop)', () => technicianReadsCameras(DESKTOP, 'desktop'));
  await test('technician reads the camera table and a never-connected site (phone)', () => technicianReadsCameras(PHONE, 'phone'));

  await test('technician on a phone: camera health', async () => {
    const page = await open(PHONE);
    await login(page, 'technician');
    await page.locator('[data-testid=camera-table] tbody tr').nth(163).waitFor({ state: 'attached' });
    await shot(page, 'technician-cameras-phone');
    noJsErrors(page);
  });

  await test('admin: every view, the users; no corrections', async () => {
    const page = await open();
    await login(page, 'admin');
    await page.locator('[data-testid=view-overview]').waitFor();
    eq(await navViews(page), ['overview', 'records', 'cameras', 'users'], 'the admin\'s views');
    await page.locator('[data-testid=nav] a[data-view=users]').click();
    await page.locator('[data-testid=users] tbody tr').first().waitFor();
    const names = await page.locator('[data-testid=users] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.user));
    eq(names.sort(), Object.values(USERS).map((u) => u.user).sort(), 'the users');
    await shot(page, 'admin-users-desktop');
    await page.goto(`${BASE}/#/records`);
    await page.locator('[data-testid=records-site]').selectOption(SIM_SITES[0]);
    await page.locator('[data-testid=records-roll-calls] table').waitFor();
    eq(await page.locator('[data-testid=correct]').count(), 0, 'only auditors correct');
    await page.goto(`${BASE}/#/site/${SIM_SITES[0]}`);
    await page.locator('[data-testid=live-toggle]').waitFor();
    const csrf = await csrfOf(page);
    await expectApi(page, 'POST', '/api/v1/roll-calls/corrections', 403, 'forbidden',
      { csrf, body: { subject: 'x', counted: 1, reason: 'x' } });
    eq((await api(page, 'GET', '/api/v1/users')).status, 200, 'GET /api/v1/users as admin');
    noJsErrors(page);
  });

  // After the test above, which expects the users the script made.
  await test('admin: adds a user in the page, disables it, gives it a new password that signs in', async () => {
    const page = await open();
    await login(page, 'admin');
    await page.goto(`${BASE}/#/users`);
    await page.locator('[data-testid=users] tbody tr').first().waitFor();
    const rules = await page.locator('[data-testid=user-rules]').textContent();
    check(rules.includes('ít nhất 10 ký tự'), `the password rule is stated: "${rules}"`);
    check((await page.locator('[data-testid=users-cli]').textContent()).includes('attendance-server users'), 'the command line is named');
    const signIn = async (user, password) => {
      const r = await fetch(`${BASE}/api/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user, password }) });
      return [r.status, (await r.json()).role ?? null];
    };
    const name = 'giamsat.thu', first = `dau-tien-${Date.now()}`, second = `mat-khau-moi-${Date.now()}`;
    const row = page.locator(`[data-testid=users] tr[data-user="${name}"]`);
    // A taken name: the service's refusal, in Vietnamese.
    await page.locator('[data-testid=new-user-name]').fill(USERS.auditor.user);
    await page.locator('[data-testid=new-user-role]').selectOption('auditor');
    await page.locator('[data-testid=new-user-password]').fill(first);
    await page.locator('[data-testid=add-user]').click();
    await page.locator('[data-testid=add-user-error]:not([hidden])').waitFor();
    eq(await page.locator('[data-testid=add-user-error]').textContent(), 'Tên đăng nhập này đã có người dùng.', 'a taken name');
    // Added through the form.
    await page.locator('[data-testid=new-user-name]').fill(name);
    await page.locator('[data-testid=add-user]').click();
    await row.waitFor();
    eq(await page.locator('[data-testid=users-msg]').textContent(), `Đã thêm người dùng ${name}.`, 'the note');
    eq(await row.locator('[data-testid=role-select]').inputValue(), 'auditor', 'its role');
    eq(await signIn(name, first), [200, 'auditor'], 'the new user signs in');
    // Disabled: no more logins.
    await row.locator('[data-testid=toggle-disabled]').click();
    await page.locator(`[data-testid=users] tr[data-user="${name}"][data-disabled="1"]`).waitFor();
    eq(await row.locator('[data-testid=user-state]').textContent(), 'Đã khóa', 'its state');
    eq((await signIn(name, first))[0], 401, 'a disabled user signs in');
    await shot(page, 'admin-users-disabled-desktop');
    // A new password typed by the admin, then enabled again: only the new one signs in.
    await row.locator('[data-testid=reset-password]').click();
    await page.locator('[data-testid=reset-password-input]').fill(second);
    await shot(page, 'admin-users-reset-password-desktop');
    await page.locator('[data-testid=reset-password-save]').click();
    await page.locator('[data-testid=reset-password-dialog]').waitFor({ state: 'detached' });
    await row.locator('[data-testid=toggle-disabled]').click();
    await page.locator(`[data-testid=users] tr[data-user="${name}"][data-disabled="0"]`).waitFor();
    eq((await signIn(name, first))[0], 401, 'the old password');
    eq(await signIn(name, second), [200, 'auditor'], 'the new password');
    // A new role.
    await row.locator('[data-testid=role-select]').selectOption('organizer');
    await page.locator('[data-testid=users-msg][data-kind=ok]').waitFor();
    await page.waitForFunction((n) => document.querySelector(`tr[data-user="${n}"] [data-testid=role-select]`)?.value === 'organizer', name);
    eq((await api(page, 'GET', '/api/v1/users')).json.users.find((u) => u.name === name)?.role, 'organizer', 'the role at the service');
    // The admin's own row: the service refuses, the page says why.
    await page.locator(`[data-testid=users] tr[data-user="${USERS.admin.user}"] [data-testid=toggle-disabled]`).click();
    await page.locator('[data-testid=users-msg][data-kind=error]').waitFor();
    eq(await page.locator('[data-testid=users-msg]').textContent(),
      'Quản trị viên không thể tự khóa tài khoản của mình hay tự bỏ vai trò quản trị.', 'disabling oneself');
    eq(await page.locator(`[data-testid=users] tr[data-user="${USERS.admin.user}"]`).getAttribute('data-disabled'), '0', 'the admin stays enabled');
    await shot(page, 'admin-users-manage-desktop');
    // The same page in English.
    await page.locator('[data-testid=lang]').click();
    await page.locator('[data-testid=add-user]', { hasText: 'Add' }).waitFor();
    // The rules come with the users (GET /api/v1/users), after the page is drawn again.
    await page.waitForFunction(() => document.querySelector('[data-testid=user-rules]')?.textContent.includes('at least 10 characters'));
    await page.locator('[data-testid=lang]').click();
    const phone = await open(PHONE);
    await login(phone, 'admin');
    await phone.goto(`${BASE}/#/users`);
    await phone.locator(`[data-testid=users] tr[data-user="${name}"]`).waitFor();
    await shot(phone, 'admin-users-phone', true);
    noJsErrors(page);
    noJsErrors(phone);
  });

  await test('language: Vietnamese first, English on a click, kept; the province\'s clock', async () => {
    const page = await open();
    await login(page, 'organizer');
    await page.locator('.tile').first().waitFor();
    eq(await page.getAttribute('html', 'lang'), 'vi', 'the language after login');
    eq(await page.locator('[data-testid=nav] a').first().textContent(), 'Tổng quan', 'the nav in Vietnamese');
    // The browser is in London; the clock must be the province's (Asia/Ho_Chi_Minh).
    const hm = (ms) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
    const clock = await page.locator('#clock').textContent();
    check([hm(Date.now()), hm(Date.now() - 60_000)].some((x) => clock.includes(x)), `the clock "${clock}" shows ${TZ}`);
    await page.locator('[data-testid=lang]').click();
    eq(await page.getAttribute('html', 'lang'), 'en', 'the language after the switch');
    eq(await page.locator('[data-testid=nav] a').first().textContent(), 'Overview', 'the nav in English');
    check((await page.locator('.summary').textContent()).includes('sites counting'), 'the summary in English');
    check((await page.locator('#clock').textContent()).startsWith('Server time'), 'the clock in English');
    await page.locator('[data-testid=alert-feed] li').first().waitFor();
    await shot(page, 'organizer-overview-en-desktop');
    await page.reload();
    await page.locator('.tile').first().waitFor();
    eq(await page.getAttribute('html', 'lang'), 'en', 'the language after a reload');
    await page.locator('[data-testid=logout]').click();
    await page.locator('[data-testid=login-form]').waitFor();
    eq(await page.locator('[data-testid=login-submit]').textContent(), 'Sign in', 'the login in English');
    await page.locator('[data-testid=login-lang]').click();
    eq(await page.locator('[data-testid=login-submit]').textContent(), 'Đăng nhập', 'the login back in Vietnamese');
    noJsErrors(page);
  });

  await test('sign-out ends the session at the service', async () => {
    const page = await open();
    await login(page, 'auditor');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'att_session');
    check(cookie?.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly, SameSite=Strict');
    await page.locator('[data-testid=logout]').click();
    await page.locator('[data-testid=login-form]').waitFor();
    const r = await fetch(`${BASE}/api/v1/roll-calls`, { headers: { Cookie: `att_session=${cookie.value}` } });
    eq([r.status, (await r.json()).code], [401, 'login_required'], 'the old cookie after sign-out');
    noJsErrors(page);
  });

  // Last: the throttle counts failures per address too, and every test signs in from here.
  await test('repeated wrong passwords are throttled (429, shown with its wait)', async () => {
    const page = await open();
    await page.goto(`${BASE}/`);
    let text = '';
    for (let i = 0; i < 8 && !/Thử lại sau/.test(text); i++) {
      await page.locator('#login-user').fill('khong.co.ai');
      await page.locator('#login-password').fill(`sai-mat-khau-${i}`);
      await page.locator('[data-testid=login-submit]').click();
      await page.locator('[data-testid=login-error]').waitFor();
      await page.waitForFunction(() => !document.querySelector('[data-testid=login-submit]').disabled);
      text = await page.locator('[data-testid=login-error]').textContent();
    }
    check(/Thử lại sau \d+ (giây|phút)/.test(text), `the throttle message: "${text}"`);
    await shot(page, 'login-throttled-desktop');
    noJsErrors(page);
  });
}

const watchdog = setTimeout(() => { console.log('browser tests: over 12 minutes, stopping'); process.exit(1); }, 12 * 60_000);
try {
  browser = await chromium.launch({ executablePath: env.ATT_CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  await run();
} finally {
  clearInterval(fakeTimer);
  clearTimeout(watchdog);
  await browser?.close();
}
const failed = results.filter((r) => r.status === 'FAILED');
console.log(`\nbrowser tests: ${results.filter((r) => r.status === 'ok').length} passed, ${failed.length} failed, ` +
  `${results.filter((r) => r.status === 'skipped').length} skipped; screenshots in ${ART}`);
for (const r of failed) console.log(`  FAILED: ${r.name}: ${r.why}`);
process.exit(failed.length ? 1 : 0);
