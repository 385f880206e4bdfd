// The timeline: an inline SVG of a cluster's checkpoints over time, a lane
// per part (shard or config server) with the time at which the part's
// token was found in its oplog, and shaded bands where checkpoints are
// missing. With the slot records and the objective report of the
// administration API, it also marks the slots that left no checkpoint
// (skipped, failed, missed) with their reason, draws the exposure (the age
// of the newest restore point) against the recovery point objective, and
// shades the stretches that missed it.

const NS = 'http://www.w3.org/2000/svg';
const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// svg makes an SVG element with attributes and children.
function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

// titled gives e a tooltip: an SVG <title>, which browsers show on hover
// and screen readers read.
function titled(e, text) {
  e.append(svg('title', {}, text));
  return e;
}

// inferInterval returns the cluster's checkpoint interval in milliseconds,
// or 0 with fewer than two checkpoints. The API does not carry the
// schedule, so it is inferred as the most common gap between consecutive
// checkpoint timestamps (counted in whole seconds; the smaller one on a
// tie): checkpoints are taken on slots of a fixed interval, so most gaps
// are exactly one interval, and a skipped slot makes a multiple of it,
// which the most common value ignores (a mean or median would not).
export function inferInterval(times) {
  const counts = new Map();
  for (let i = 1; i < times.length; i++) {
    const s = Math.round((times[i] - times[i - 1]) / 1000);
    if (s > 0) counts.set(s, (counts.get(s) || 0) + 1);
  }
  let best = 0;
  let bestN = 0;
  for (const [s, n] of counts) {
    if (n > bestN || (n === bestN && s < best)) {
      best = s;
      bestN = n;
    }
  }
  return best * 1000;
}

// GAP_FACTOR: a gap longer than this many intervals between consecutive
// checkpoints means at least one slot has no checkpoint (some jitter in
// when a checkpoint's timestamp falls is tolerated).
export const GAP_FACTOR = 1.5;

// findGaps returns the spans between consecutive checkpoints longer than
// GAP_FACTOR × interval.
export function findGaps(times, interval) {
  const gaps = [];
  if (interval <= 0) return gaps;
  for (let i = 1; i < times.length; i++) {
    if (times[i] - times[i - 1] > GAP_FACTOR * interval) gaps.push({ from: times[i - 1], to: times[i] });
  }
  return gaps;
}

// lanes lists the parts of the checkpoints, shards by name first, the
// config server last: [{key, label, config}].
export function lanesOf(checkpoints) {
  const seen = new Map();
  for (const cp of checkpoints) {
    for (const p of cp.parts || []) {
      const key = partKey(p);
      if (!seen.has(key)) seen.set(key, { key, label: key, config: isConfig(p) });
    }
  }
  return [...seen.values()].sort((a, b) => (a.config - b.config) || a.label.localeCompare(b.label, 'en', { numeric: true }));
}

function isConfig(p) {
  return p.typeName === 'CONFIG_SERVER' || p.typeName === 'CONFIG_SERVER_REPLICA_SET';
}

// partKey names a part's lane: its shard, its replica set (a replica set
// cluster, or a config server replica set), or "config servers" for
// mirrored config servers, which have neither.
function partKey(p) {
  if (p.shardName) return p.shardName;
  if (p.replicaSetName) return p.replicaSetName;
  return isConfig(p) ? 'config servers' : p.typeName || 'part';
}

const pad = (n) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// utc formats a time as 2026-11-21 12:00:00 UTC.
export function utc(t) {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

// duration formats milliseconds as e.g. "15 min", "2 h 30 min", "1 d 2 h".
export function duration(ms) {
  const m = Math.round(ms / MINUTE);
  if (m < 1) return `${Math.round(ms / 1000)} s`;
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return h % 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${Math.floor(h / 24)} d`;
}

// MARK_SPACING is the fewest pixels between the marks of consecutive
// checkpoints (circles 7 px across): closer than this they merge into a
// solid bar (a week of 15-minute checkpoints is 672 marks), so the
// timeline draws one bar per hour, or per longer bucket, instead, each at
// least BAR_SPACING pixels from the next (bars of 70% of that, so at
// least a pixel apart).
export const MARK_SPACING = 8;
export const BAR_SPACING = 4;
const BUCKETS = [HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY];

// bucketFor returns how long a span one mark stands for on a plot of plotW
// pixels for spanMs, with checkpoints every interval: 0 (a mark per
// checkpoint) when their marks are at least MARK_SPACING apart, else the
// shortest of BUCKETS longer than the interval whose bars are BAR_SPACING
// apart.
export function bucketFor(interval, spanMs, plotW) {
  const px = (ms) => (ms / spanMs) * plotW;
  if (!interval || px(interval) >= MARK_SPACING) return 0;
  return BUCKETS.find((b) => b > interval && px(b) >= BAR_SPACING) || BUCKETS[BUCKETS.length - 1];
}

// aggregate groups checkpoints (oldest first) into spans of bucket
// milliseconds aligned on UTC (hours start at :00, days at midnight):
// [{from, to, cps}], oldest first, empty spans left out.
export function aggregate(checkpoints, bucket) {
  const out = [];
  for (const cp of checkpoints) {
    const from = Math.floor(Date.parse(cp.timestamp) / bucket) * bucket;
    if (out.length === 0 || out[out.length - 1].from !== from) out.push({ from, to: from + bucket, cps: [] });
    out[out.length - 1].cps.push(cp);
  }
  return out;
}

const TICK_STEPS = [15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

// Layout, in pixels.
const LEFT = 150; // lane labels
const RIGHT = 24;
const TOP = 12;
const MAIN_ROW = 40; // the checkpoints row
const EXPOSURE_ROW = 56; // the exposure row, with an objective report
const LANE = 24; // each part's lane
const AXIS = 46;

// NO_CHECKPOINT are the slot outcomes that left no checkpoint at all:
// their marks stand in the checkpoints row where one is missing.
const NO_CHECKPOINT = new Set(['SKIPPED', 'FAILED', 'MISSED']);

// slotText says what became of a slot record, and why: its outcome, time,
// reason code and sentence, the part at fault.
export function slotText(s) {
  const head = `Slot ${utc(Date.parse(s.slot))}: ${s.outcome.replace('_', ' ').toLowerCase()}`;
  const why = [s.reason, s.detail].filter(Boolean).join(': ');
  return why ? `${head}\n${why}${s.part ? ` (${s.part})` : ''}` : head;
}

// renderTimeline draws the checkpoints (oldest first) into a new SVG of
// the given width and returns it with what it found:
// {svg, interval, gaps, lanes, notRestorable, bucket, slotMarks, missed}.
// interval, if given, is the cluster's checkpoint interval (inferred from
// more checkpoints than these); otherwise it is inferred from these.
// bucket is 0 when each checkpoint has its mark, else the span each bar
// stands for (see bucketFor). extra may give the cluster's slot records
// that left no restorable checkpoint (slots) and its objective report
// (objective); onSlot, if given, is called with a slot record when its
// mark is clicked.
export function renderTimeline(checkpoints, width, interval = 0, extra = {}) {
  const times = checkpoints.map((cp) => Date.parse(cp.timestamp));
  if (!interval) interval = inferInterval(times);
  const gaps = findGaps(times, interval);
  const lanes = lanesOf(checkpoints);
  const report = extra.objective || null;
  const expoH = report ? EXPOSURE_ROW : 0;
  const height = TOP + MAIN_ROW + expoH + lanes.length * LANE + AXIS;
  const plotW = Math.max(100, width - LEFT - RIGHT);

  // The domain spans the checkpoints and their token times, padded by
  // half an interval so the first and last marks are not on the edge.
  let lo = Math.min(...times);
  let hi = Math.max(...times);
  for (const cp of checkpoints) {
    for (const p of cp.parts || []) {
      if (p.tokenTimestamp) hi = Math.max(hi, Date.parse(p.tokenTimestamp.date));
    }
  }
  // Slots of the charted span that left no checkpoint, at most an
  // interval after the newest: a failure after it is shown too.
  const first = lo;
  const slotLimit = hi + Math.max(interval, HOUR);
  const slots = (extra.slots || []).filter((sl) => {
    const t = Date.parse(sl.slot);
    return NO_CHECKPOINT.has(sl.outcome) && t >= first && t <= slotLimit;
  });
  for (const sl of slots) hi = Math.max(hi, Date.parse(sl.slot));
  const padMs = Math.max(interval / 2, (hi - lo) * 0.005, MINUTE);
  lo -= padMs;
  hi += padMs;
  const x = (t) => LEFT + ((t - lo) / (hi - lo)) * plotW;
  const bucket = bucketFor(interval, hi - lo, plotW);
  const laneTop = TOP + MAIN_ROW + expoH;
  const plotBottom = laneTop + lanes.length * LANE;

  const notRestorable = checkpoints.filter((cp) => !cp.restorable).length;
  const root = svg('svg', {
    class: 'timeline',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': 'timeline-title timeline-desc',
  });
  root.append(
    svg('title', { id: 'timeline-title' }, 'Checkpoint timeline'),
    svg('desc', { id: 'timeline-desc' },
      `${checkpoints.length} checkpoints from ${utc(times[0])} to ${utc(times[times.length - 1])}, ` +
      `${notRestorable} not restorable, ${gaps.length} gaps longer than ${GAP_FACTOR} × the ${duration(interval)} interval.`),
  );

  // Background rows: the checkpoints row and one per part, alternating.
  const rows = svg('g', { class: 'rows' });
  rows.append(svg('rect', { class: 'row main', x: LEFT, y: TOP, width: plotW, height: MAIN_ROW }));
  if (report) rows.append(svg('rect', { class: 'row exposure', x: LEFT, y: TOP + MAIN_ROW, width: plotW, height: expoH }));
  lanes.forEach((lane, i) => {
    rows.append(svg('rect', { class: `row ${i % 2 ? 'odd' : 'even'}`, x: LEFT, y: laneTop + i * LANE, width: plotW, height: LANE }));
  });
  root.append(rows);

  // The stretches that missed the objective, behind everything, over
  // every row: clipped to the chart.
  const missedG = svg('g', { class: 'missed' });
  let missed = 0;
  for (const m of (report && report.missed) || []) {
    const a = Math.max(lo, Date.parse(m.start));
    const b = Math.min(hi, Date.parse(m.end));
    if (b <= a) continue;
    missed++;
    missedG.append(titled(svg('rect', { class: 'missed-band', x: x(a), y: TOP, width: Math.max(2, x(b) - x(a)), height: plotBottom - TOP,
      'data-start': m.start, 'data-end': m.end }),
    `Objective missed for ${duration(m.seconds * 1000)}, from ${utc(Date.parse(m.start))} to ${utc(Date.parse(m.end))}: the newest restore point was older than ${duration(report.recoveryPointObjectiveMin * MINUTE)}`));
  }
  root.append(missedG);

  // Gap bands, behind the marks, over every row.
  const gapG = svg('g', { class: 'gaps' });
  for (const g of gaps) {
    const x0 = x(g.from);
    const w = Math.max(4, x(g.to) - x0);
    gapG.append(titled(svg('rect', { class: 'gap-band', x: x0 + (x(g.to) - x0 - w) / 2, y: TOP, width: w, height: plotBottom - TOP }),
      `Gap of ${duration(g.to - g.from)} (${Math.round((g.to - g.from) / interval) - 1} missed) from ${utc(g.from)} to ${utc(g.to)}`));
  }
  root.append(gapG);

  // Time axis, in UTC.
  root.append(axis(lo, hi, x, plotBottom, plotW));

  // Row labels.
  const labels = svg('g', { class: 'labels' });
  labels.append(svg('text', { class: 'row-label main', x: LEFT - 12, y: TOP + MAIN_ROW / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, 'Checkpoints'));
  if (report) labels.append(svg('text', { class: 'row-label main', x: LEFT - 12, y: TOP + MAIN_ROW + expoH / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, 'Exposure'));
  lanes.forEach((lane, i) => {
    labels.append(svg('text', { class: `row-label${lane.config ? ' config' : ''}`, x: LEFT - 12, y: laneTop + i * LANE + LANE / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, lane.label));
  });
  root.append(labels);

  if (report) root.append(exposureRow(checkpoints, report, lo, hi, x, TOP + MAIN_ROW, expoH, plotW));
  const slotG = slotMarks(slots, x, extra.onSlot);
  const whyNot = new Map((extra.slots || []).filter((sl) => sl.checkpointId).map((sl) => [sl.checkpointId, sl]));

  if (bucket) {
    root.append(...bucketMarks(checkpoints, bucket, interval, lanes, x, laneTop), slotG);
    return { svg: root, interval, gaps, lanes, notRestorable, bucket, slotMarks: slots.length, missed };
  }

  // Token marks: a tick at each part's token time; a cross at the
  // checkpoint's time where a part's token was not found.
  lanes.forEach((lane, i) => {
    const cy = laneTop + i * LANE + LANE / 2;
    const g = svg('g', { class: 'lane', 'data-part': lane.key });
    for (const cp of checkpoints) {
      const p = (cp.parts || []).find((q) => partKey(q) === lane.key);
      if (!p) continue;
      if (p.tokenDiscovered && p.tokenTimestamp) {
        const t = Date.parse(p.tokenTimestamp.date);
        g.append(titled(svg('rect', { class: 'token', x: x(t) - 0.75, y: cy - 6, width: 1.5, height: 12, 'data-tokens': 1 }),
          `${lane.label}: token at ${utc(t)} (increment ${p.tokenTimestamp.increment}), checkpoint ${cp.id}`));
      } else {
        const cx = x(Date.parse(cp.timestamp));
        g.append(titled(svg('path', { class: 'token-missing', d: `M${cx - 4},${cy - 4}L${cx + 4},${cy + 4}M${cx - 4},${cy + 4}L${cx + 4},${cy - 4}` }),
          `${lane.label}: token not discovered, checkpoint ${cp.id} at ${utc(Date.parse(cp.timestamp))}`));
      }
    }
    root.append(g);
  });

  // Checkpoint marks, the not restorable ones last so they are on top:
  // restorable as circles, not restorable as larger triangles.
  const marks = svg('g', { class: 'marks' });
  const cy = TOP + MAIN_ROW / 2;
  const tip = (cp) => `${cp.id}\n${utc(Date.parse(cp.timestamp))}\n${cp.restorable ? 'restorable' : 'NOT restorable'}` +
    (whyNot.has(cp.id) ? `\n${slotText(whyNot.get(cp.id))}` : '');
  for (const cp of checkpoints) {
    if (!cp.restorable) continue;
    marks.append(titled(svg('circle', { class: 'cp-mark restorable', cx: x(Date.parse(cp.timestamp)), cy, r: 3.5, 'data-id': cp.id }), tip(cp)));
  }
  for (const cp of checkpoints) {
    if (cp.restorable) continue;
    const cx = x(Date.parse(cp.timestamp));
    marks.append(titled(svg('path', { class: 'cp-mark not-restorable', d: `M${cx},${cy - 8}L${cx + 7},${cy + 6}L${cx - 7},${cy + 6}Z`, 'data-id': cp.id }), tip(cp)));
  }
  root.append(marks, slotG);

  return { svg: root, interval, gaps, lanes, notRestorable, bucket, slotMarks: slots.length, missed };
}

// slotMarks draws, in the checkpoints row, a diamond for each slot that
// left no checkpoint (skipped, failed: the procedure ran; missed: nothing
// ran it), with its reason on hover and, through onSlot, on click.
function slotMarks(slots, x, onSlot) {
  const g = svg('g', { class: 'slots' });
  const cy = TOP + MAIN_ROW / 2;
  for (const sl of slots) {
    const cx = x(Date.parse(sl.slot));
    const mark = titled(svg('path', {
      class: `slot-mark ${sl.outcome.toLowerCase()}`, d: `M${cx},${cy - 7}L${cx + 6},${cy}L${cx},${cy + 7}L${cx - 6},${cy}Z`,
      'data-slot': sl.slot, 'data-outcome': sl.outcome, 'data-reason': sl.reason || '', tabindex: 0, role: 'button',
    }), slotText(sl));
    if (onSlot) {
      mark.addEventListener('click', () => onSlot(sl));
      mark.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          onSlot(sl);
        }
      });
    }
    g.append(mark);
  }
  return g;
}

// exposureRow draws the age of the newest restore point over time
// against the objective, a dashed line. The age is a sawtooth that drops
// to zero at each restorable checkpoint; drawn at the chart's resolution,
// each column of EXPOSURE_STEP pixels shows the largest age within it, so
// that a week of 15-minute teeth reads as their peaks rather than as a
// solid band. The row's scale is twice the objective (the line halfway
// up), or the largest age without one; ages above it are cut at the top.
const EXPOSURE_STEP = 2;

export function exposurePeaks(restorable, lo, end, stepMs) {
  const pts = [];
  if (restorable.length === 0 || end <= restorable[0]) return pts;
  let i = 0;
  pts.push([restorable[0], 0]);
  for (let t = Math.max(lo, restorable[0]) + stepMs; ; t += stepMs) {
    const b = Math.min(t, end);
    let m = 0;
    // The teeth that end in this column peak in it.
    while (i + 1 < restorable.length && restorable[i + 1] <= b) {
      m = Math.max(m, restorable[i + 1] - restorable[i]);
      i++;
    }
    pts.push([b, Math.max(m, b - restorable[i])]);
    if (b >= end) return pts;
  }
}

function exposureRow(checkpoints, report, lo, hi, x, top, h, plotW) {
  const g = svg('g', { class: 'exposure' });
  const restorable = checkpoints.filter((cp) => cp.restorable).map((cp) => Date.parse(cp.timestamp));
  const objective = (report.recoveryPointObjectiveMin || 0) * MINUTE;
  const end = Math.min(hi, Date.parse(report.now));
  const pts = exposurePeaks(restorable, lo, end, ((hi - lo) / plotW) * EXPOSURE_STEP);
  let cap = objective * 2;
  if (!cap) cap = Math.max(MINUTE, ...pts.map((p) => p[1]));
  const y = (age) => top + h - 4 - (Math.min(age, cap) / cap) * (h - 8);
  if (pts.length) {
    g.append(svg('path', { class: 'exposure-line', d: pts.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('') }));
  }
  if (objective) {
    g.append(titled(svg('line', { class: 'objective-line', x1: LEFT, x2: LEFT + plotW, y1: y(objective), y2: y(objective),
      'data-minutes': report.recoveryPointObjectiveMin }),
    `Recovery point objective: ${duration(objective)}; the line below it is the age of the newest restore point`));
  }
  return g;
}

// bucketMarks draws the checkpoints a bucket at a time: in the checkpoints
// row a bar per bucket, as tall as the share of its slots that have a
// checkpoint, blue for the restorable ones with the not restorable ones
// stacked on top in orange; in each part's lane a tick where every token
// of the bucket was found, a cross where one was not.
function bucketMarks(checkpoints, bucket, interval, lanes, x, laneTop) {
  const buckets = aggregate(checkpoints, bucket);
  const slots = Math.max(1, Math.round(bucket / interval));
  const w = Math.max(1, (x(bucket) - x(0)) * 0.7);
  const full = MAIN_ROW - 12;
  const base = TOP + MAIN_ROW - 6;
  const span = (b) => `${utc(b.from)} to ${utc(b.to)}`;
  const marks = svg('g', { class: 'marks' });
  for (const b of buckets) {
    const bad = b.cps.filter((cp) => !cp.restorable).length;
    const good = b.cps.length - bad;
    const hGood = (full * Math.min(good, slots)) / slots;
    const hBad = (full * Math.min(bad, slots - Math.min(good, slots))) / slots;
    const x0 = x((b.from + b.to) / 2) - w / 2;
    const g = svg('g', { class: 'cp-bucket', 'data-count': b.cps.length, 'data-not-restorable': bad, 'data-from': new Date(b.from).toISOString() });
    if (good) g.append(svg('rect', { class: 'cp-bar restorable', x: x0, y: base - hGood, width: w, height: hGood }));
    if (bad) g.append(svg('rect', { class: 'cp-bar not-restorable', x: x0, y: base - hGood - hBad, width: w, height: hBad }));
    marks.append(titled(g, `${span(b)}: ${b.cps.length} of ${slots} slots with a checkpoint` +
      (bad ? `, ${bad} NOT restorable` : ', all restorable')));
  }
  const laneGroups = lanes.map((lane, i) => {
    const cy = laneTop + i * LANE + LANE / 2;
    const g = svg('g', { class: 'lane', 'data-part': lane.key });
    for (const b of buckets) {
      const parts = b.cps.map((cp) => (cp.parts || []).find((q) => partKey(q) === lane.key)).filter(Boolean);
      if (parts.length === 0) continue;
      const found = parts.filter((p) => p.tokenDiscovered && p.tokenTimestamp).length;
      const cx = x((b.from + b.to) / 2);
      if (found === parts.length) {
        g.append(titled(svg('rect', { class: 'token', x: cx - 0.75, y: cy - 6, width: 1.5, height: 12, 'data-tokens': found }),
          `${lane.label}: every token found, ${found} checkpoints from ${span(b)}`));
      } else {
        g.append(titled(svg('path', { class: 'token-missing', 'data-tokens': found, d: `M${cx - 3},${cy - 4}L${cx + 3},${cy + 4}M${cx - 3},${cy + 4}L${cx + 3},${cy - 4}` }),
          `${lane.label}: token not discovered in ${parts.length - found} of ${parts.length} checkpoints from ${span(b)}`));
      }
    }
    return g;
  });
  return [...laneGroups, marks];
}

// axis draws the time axis under the plot: ticks on whole UTC steps,
// labelled with the time, and with the date where a day begins.
function axis(lo, hi, x, y, plotW) {
  const g = svg('g', { class: 'axis' });
  const maxTicks = Math.max(2, Math.floor(plotW / 90));
  const step = TICK_STEPS.find((s) => (hi - lo) / s <= maxTicks) || TICK_STEPS[TICK_STEPS.length - 1];
  g.append(svg('line', { class: 'axis-line', x1: LEFT, x2: LEFT + plotW, y1: y, y2: y }));
  let prevDay = '';
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
    const d = new Date(t);
    const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    const xt = x(t);
    g.append(svg('line', { class: 'grid', x1: xt, x2: xt, y1: TOP, y2: y }));
    g.append(svg('line', { class: 'tick', x1: xt, x2: xt, y1: y, y2: y + 5 }));
    const label = svg('text', { class: 'tick-label', x: xt, y: y + 18, 'text-anchor': 'middle' });
    if (step >= DAY) {
      label.textContent = day;
    } else {
      label.textContent = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
      if (day !== prevDay) {
        label.append(svg('tspan', { class: 'tick-day', x: xt, dy: 14 }, day));
      }
    }
    prevDay = day;
    g.append(label);
  }
  g.append(svg('text', { class: 'axis-title', x: LEFT + plotW, y: y + 44, 'text-anchor': 'end' }, 'Time (UTC)'));
  return g;
}

// legend returns the chart's key as an SVG.
export function legend(withObjective = false) {
  const h = withObjective ? 48 : 24;
  const root = svg('svg', { class: 'legend', width: 760, height: h, viewBox: `0 0 760 ${h}`, role: 'img',
    'aria-label': 'Legend: blue circle, restorable checkpoint; orange triangle, not restorable; tick, token found in a part; cross, token not found; shaded band, gap of missed slots' +
      (withObjective ? '; diamond, slot skipped, failed or missed; dashed line, recovery point objective; red band, objective missed' : '') });
  let xx = 8;
  let row = 0;
  const item = (mark, text, w) => {
    root.append(mark, svg('text', { x: xx + 14, y: 16 + row }, text));
    xx += w;
  };
  item(svg('circle', { class: 'cp-mark restorable', cx: xx + 4, cy: 12, r: 4 }), 'Restorable', 112);
  item(svg('path', { class: 'cp-mark not-restorable', d: `M${xx + 4},${5}L${xx + 11},${19}L${xx - 3},${19}Z` }), 'Not restorable', 136);
  item(svg('rect', { class: 'token', x: xx + 3, y: 6, width: 1.5, height: 12 }), 'Token found (per part)', 182);
  item(svg('path', { class: 'token-missing', d: `M${xx},${8}L${xx + 8},${16}M${xx},${16}L${xx + 8},${8}` }), 'Token not found', 140);
  item(svg('rect', { class: 'gap-band', x: xx, y: 4, width: 9, height: 16 }), 'Gap (missed slots)', 160);
  if (withObjective) {
    xx = 8;
    row = 24;
    item(svg('path', { class: 'slot-mark failed', d: `M${xx + 4},${row + 5}L${xx + 10},${row + 12}L${xx + 4},${row + 19}L${xx - 2},${row + 12}Z` }), 'Slot skipped, failed or missed', 218);
    item(svg('line', { class: 'objective-line', x1: xx - 2, x2: xx + 10, y1: row + 12, y2: row + 12 }), 'Objective', 100);
    item(svg('path', { class: 'exposure-line', d: `M${xx - 2},${row + 18}L${xx + 10},${row + 6}` }), 'Exposure (age of the newest restore point)', 290);
    item(svg('rect', { class: 'missed-band', x: xx, y: row + 4, width: 9, height: 16 }), 'Objective missed', 140);
  }
  return root;
}
