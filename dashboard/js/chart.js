// The count timeline of one site over one day (uPlot, served from dashboard/vendor/): the
// reported count as steps (it holds until the next frame; a gap of more than 2 minutes
// breaks the line), the expected attendees as a dashed line, alerts as shaded bands, roll
// calls as marks with their count (a cross at the bottom when the site had no picture),
// and frames the camera flagged (dark, covered...) as red ticks under the axis.
import { t, fmtNum, fmtHM, fmtTime, timeZone, alertLabel } from './i18n.js';
import { h } from './dom.js';

const GAP_MS = 120_000;
const COLORS = {
  count: '#1d5fd1', expected: '#6b7280', rollCall: '#0f5132', rollCallNone: '#b3261e', flag: '#b3261e',
  alert: { under_attendance: 'rgba(179,38,30,.13)', offline: 'rgba(138,83,0,.16)', camera_fault: 'rgba(109,40,217,.14)', count_disputed: 'rgba(3,105,161,.14)', late_start: 'rgba(180,83,9,.14)', early_leave: 'rgba(180,83,9,.14)' },
};

// The legend of what the chart marks besides its two series.
export function marksLegend() {
  const T = t();
  const item = (cls, text) => h('li', cls, h('span', 'swatch'), text);
  return h('ul', 'marks-legend', item('rc', T.markRollCall),
    ...Object.keys(COLORS.alert).map((k) => item(`al ${k}`, `${T.markAlert}: ${alertLabel(k)}`)), item('flag', T.markFlag));
}

// The hours worth showing: from an hour before the first thing of the day to an hour after
// the last (now, on the current day), at least 06:00 to 18:00, within the day.
function visibleHours(d) {
  const HOUR = 3_600_000;
  const times = [...d.points.map((p) => p.t), ...d.rollCalls.map((r) => r.scheduled_ms),
    ...d.alerts.flatMap((a) => [a.started_ms, a.ended_ms ?? d.now])].filter((x) => x >= d.from && x <= d.to);
  if (d.now >= d.from && d.now <= d.to) times.push(d.now);
  const first = Math.min(d.from + 6 * HOUR, ...times.map((x) => x - HOUR));
  const last = Math.max(d.from + 18 * HOUR, ...times.map((x) => x + HOUR));
  return { x0: Math.max(d.from, d.from + Math.floor((first - d.from) / HOUR) * HOUR),
    x1: Math.min(d.to, d.from + Math.ceil((last - d.from) / HOUR) * HOUR) };
}

// Creates the chart in `container`; returns {update(data), destroy()}. data: {from, to,
// points: [{t, count, detections, flags}], expected, rollCalls, alerts, now}.
export function timelineChart(container) {
  const uPlot = window.uPlot;
  const T = t();
  let marks = { rollCalls: [], alerts: [], flagged: [], now: 0, from: 0, to: 0 };
  const px = (v) => Math.round(v * uPlot.pxRatio);

  function drawBands(u) {
    const { ctx } = u, { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const a of marks.alerts) {
      const x0 = u.valToPos(Math.max(a.started_ms, marks.from), 'x', true);
      const x1 = u.valToPos(Math.min(a.ended_ms ?? marks.now, marks.to), 'x', true);
      ctx.fillStyle = COLORS.alert[a.kind] ?? 'rgba(0,0,0,.08)';
      ctx.fillRect(x0, top, Math.max(px(3), x1 - x0), height);
    }
    ctx.restore();
  }

  function drawMarks(u) {
    const { ctx } = u, { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - px(6), width, height + px(12));
    ctx.clip();
    ctx.lineWidth = px(1);
    for (const rc of marks.rollCalls) {
      const x = u.valToPos(rc.scheduled_ms, 'x', true);
      ctx.strokeStyle = 'rgba(15,81,50,.35)';
      ctx.setLineDash([px(2), px(3)]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.setLineDash([]);
      if (rc.counted == null) {
        const y = top + height - px(6), r = px(4);
        ctx.strokeStyle = COLORS.rollCallNone;
        ctx.lineWidth = px(2);
        ctx.beginPath();
        ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
        ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
        ctx.stroke();
        ctx.lineWidth = px(1);
      } else {
        const y = u.valToPos(rc.counted, 'y', true);
        ctx.fillStyle = COLORS.rollCall;
        ctx.strokeStyle = '#fff';
        ctx.beginPath();
        ctx.arc(x, y, px(5), 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    ctx.fillStyle = COLORS.flag;
    for (const p of marks.flagged) {
      const x = u.valToPos(p.t, 'x', true);
      ctx.fillRect(x - px(1), top + height - px(5), px(2), px(5));
    }
    ctx.restore();
  }

  const opts = {
    width: Math.max(280, container.clientWidth), height: 240, ms: 1,
    tzDate: (ts) => uPlot.tzDate(new Date(ts), timeZone()),
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: () => [marks.x0, marks.x1] },
      y: { range: (u, min, max) => [0, Math.max(5, Math.ceil(Math.max(max ?? 0, marks.expected ?? 0) * 1.15))] },
    },
    axes: [
      { values: (u, splits) => splits.map((v) => fmtHM(v)), stroke: '#4b5563', grid: { stroke: '#e5e7eb' } },
      { values: (u, splits) => splits.map((v) => fmtNum(v)), stroke: '#4b5563', grid: { stroke: '#e5e7eb' }, size: 44 },
    ],
    series: [
      { label: T.colTime, value: (u, v) => (v == null ? '—' : fmtTime(v)) },
      { label: T.seriesCount, stroke: COLORS.count, width: 2, fill: 'rgba(29,95,209,.08)',
        paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, value: (u, v) => (v == null ? '—' : fmtNum(v)) },
      { label: T.seriesExpected, stroke: COLORS.expected, width: 1.5, dash: [6, 4], points: { show: false },
        value: (u, v) => (v == null ? '—' : fmtNum(v)) },
    ],
    hooks: { drawClear: [drawBands], draw: [drawMarks] },
  };
  const u = new uPlot(opts, [[], [], []], container);
  const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, container.clientWidth), height: 240 }));
  ro.observe(container);

  return {
    update(d) {
      marks = { rollCalls: d.rollCalls, alerts: d.alerts, flagged: d.points.filter((p) => p.flags?.length), now: d.now,
        from: d.from, to: d.to, expected: d.expected, ...visibleHours(d) };
      // The day's ends carry the expected line across; a null breaks the count's line.
      const xs = [d.from], ys = [null], ex = [d.expected];
      let prev = null;
      for (const p of d.points) {
        if (p.t <= xs[xs.length - 1] || p.t >= d.to) continue;
        if (prev != null && p.t - prev > GAP_MS) { xs.push(prev + 1); ys.push(null); ex.push(d.expected); }
        xs.push(p.t); ys.push(p.count); ex.push(d.expected);
        prev = p.t;
      }
      xs.push(d.to); ys.push(null); ex.push(d.expected);
      u.setData([xs, ys, ex]);
    },
    destroy() { ro.disconnect(); u.destroy(); },
  };
}
