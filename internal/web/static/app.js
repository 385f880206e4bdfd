// The web view: projects → clusters → a cluster's checkpoints, navigated
// with the URL hash (#/projects/{id}/clusters/{name}) so that every view
// can be linked and reloaded.

import * as api from './api.js';
import { renderTimeline, legend, utc, duration, inferInterval, slotText, GAP_FACTOR } from './chart.js';

// The cluster view reads the checkpoints of the WINDOW before the newest
// one, at most MAX of them, charts those of the chosen range (the whole
// window by default), and lists the NEWEST most recent in the table.
const HOUR = 3600e3;
const WINDOW = 7 * 24 * HOUR;
const MAX = 2000;
const NEWEST = 20;
// MAX_SLOTS bounds the slot records read that left no restorable
// checkpoint; MAX_JOBS the restore jobs.
const MAX_SLOTS = 2000;
const MAX_JOBS = 2000;
const RANGES = [
  { key: '7d', ms: WINDOW, label: '7 days' },
  { key: '2d', ms: 48 * HOUR, label: '2 days' },
  { key: '1d', ms: 24 * HOUR, label: '1 day' },
  { key: '6h', ms: 6 * HOUR, label: '6 hours' },
];

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');

// el makes an HTML element; children are nodes or text (never parsed as
// HTML, so API data cannot inject markup).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c !== undefined && c !== null && c !== false) e.append(c);
  }
  return e;
}

const enc = encodeURIComponent;
const projectHref = (id) => `#/projects/${enc(id)}`;
const clusterHref = (id, name) => `#/projects/${enc(id)}/clusters/${enc(name)}`;

// decode undoes encodeURIComponent, leaving a malformed escape as it is
// (the API then answers for that name).
function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// route parses the hash into a view: #/projects/{id}/clusters/{name}
// optionally followed by ?range=1d.
function route() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decode);
  if (parts[0] === 'projects' && parts.length === 2) return { view: 'project', id: parts[1] };
  if (parts[0] === 'projects' && parts[2] === 'clusters' && parts.length === 4) {
    const range = RANGES.find((r) => r.key === new URLSearchParams(query).get('range')) || RANGES[0];
    return { view: 'cluster', id: parts[1], name: parts[3], range };
  }
  return { view: 'projects' };
}

// Each render gets a number; a render that finishes after a newer one
// started draws nothing.
let current = 0;

async function render() {
  const n = ++current;
  const r = route();
  document.body.dataset.state = 'loading';
  main.setAttribute('aria-busy', 'true');
  try {
    let view;
    if (r.view === 'cluster') view = await clusterView(r.id, r.name, r.range);
    else if (r.view === 'project') view = await projectView(r.id);
    else view = await projectsView();
    if (n !== current) return;
    setCrumbs(view.crumbs);
    document.title = view.title ? `${view.title} · checkpointd` : 'checkpointd';
    main.replaceChildren(...view.nodes);
    if (view.after) view.after();
    document.body.dataset.state = 'ready';
  } catch (e) {
    if (n !== current) return;
    setCrumbs(r.view === 'projects' ? [] : [{ text: 'Projects', href: '#/' }]);
    main.replaceChildren(errorBox(e));
    document.body.dataset.state = 'error';
  } finally {
    if (n === current) main.removeAttribute('aria-busy');
  }
}

function setCrumbs(items) {
  crumbs.replaceChildren(...items.map((c, i) => el('li', {},
    i === items.length - 1 ? el('span', { 'aria-current': 'page' }, c.text) : el('a', { href: c.href }, c.text))));
}

// errorBox shows an API error as the API gave it: status, errorCode and
// detail.
function errorBox(e) {
  const box = el('div', { class: 'error', role: 'alert' });
  if (e instanceof api.ApiError) {
    box.append(
      el('p', { class: 'error-code' }, el('strong', {}, e.status ? `${e.status} ` : ''), el('code', {}, e.code)),
      el('p', { class: 'error-detail' }, e.detail),
      el('p', { class: 'muted' }, 'GET ', el('code', {}, `/api/atlas/v2/${e.path}`)),
    );
    if (e.status === 401) {
      box.append(el('p', {}, 'Reload the page to sign in with an API key: its public key as the user name, its private key as the password.'));
    }
  } else {
    box.append(el('p', { class: 'error-code' }, el('strong', {}, 'Error')), el('p', {}, String(e && e.message || e)));
  }
  return box;
}

function table(caption, head, rows, cls = '') {
  return el('table', { class: `data ${cls}` },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows));
}

const day = (s) => (s ? utc(Date.parse(s)).slice(0, 10) : '');

async function projectsView() {
  const page = await api.projects();
  const nodes = [el('h1', {}, 'Projects')];
  if (page.results.length === 0) {
    nodes.push(el('p', { class: 'empty' }, 'This API key may read no project.'));
  } else {
    nodes.push(table(`${page.totalCount} project${page.totalCount === 1 ? '' : 's'} this API key may read`,
      ['Name', 'Project ID', 'Clusters', 'Created'],
      page.results.map((p) => el('tr', {},
        el('th', { scope: 'row' }, el('a', { href: projectHref(p.id) }, p.name)),
        el('td', { class: 'mono' }, p.id),
        el('td', { class: 'num' }, String(p.clusterCount ?? '')),
        el('td', {}, day(p.created))))));
  }
  return { title: 'Projects', crumbs: [{ text: 'Projects', href: '#/' }], nodes };
}

async function projectView(id) {
  const [p, page] = await Promise.all([api.project(id), api.clusters(id)]);
  const nodes = [el('h1', {}, p.name, ' ', el('span', { class: 'sub mono' }, p.id))];
  if (page.results.length === 0) {
    nodes.push(el('p', { class: 'empty' }, 'This project has no clusters.'));
  } else {
    nodes.push(table('Clusters', ['Name', 'Type', 'MongoDB', 'Backup', 'Created'],
      page.results.map((c) => el('tr', {},
        el('th', { scope: 'row' }, el('a', { href: clusterHref(id, c.name) }, c.name)),
        el('td', {}, clusterType(c.clusterType)),
        el('td', {}, c.mongoDBVersion || ''),
        el('td', {}, c.backupEnabled ? 'enabled' : 'off'),
        el('td', {}, day(c.createDate))))));
  }
  return { title: p.name, crumbs: [{ text: 'Projects', href: '#/' }, { text: p.name, href: projectHref(id) }], nodes };
}

function clusterType(t) {
  return { SHARDED: 'sharded', REPLICASET: 'replica set', GEOSHARDED: 'global' }[t] || (t || '').toLowerCase();
}

// isoSeconds is a time as the API takes it, RFC 3339 in whole seconds.
const isoSeconds = (t) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

// optional is what a read gives, or null when it fails: what the
// administration and Cloud Manager APIs add to the view (the objective,
// the slots' reasons, the restore jobs) is drawn when it can be read, and
// left out, with a note, when it cannot.
async function optional(what, read, notes) {
  try {
    return await read();
  } catch (e) {
    notes.push(`${what}: ${e instanceof api.ApiError ? `${e.status} ${e.code}` : String(e && e.message || e)}`);
    return null;
  }
}

async function clusterView(id, name, range) {
  const [p, data] = await Promise.all([api.project(id), api.recentCheckpoints(id, name, WINDOW, MAX)]);
  const cps = data.items;
  const crumbsList = [{ text: 'Projects', href: '#/' }, { text: p.name, href: projectHref(id) }, { text: name, href: clusterHref(id, name) }];
  const nodes = [el('h1', {}, name, ' ', el('span', { class: 'sub' }, 'backup checkpoints'))];
  if (cps.length === 0) {
    nodes.push(el('p', { class: 'empty' }, 'This cluster has no checkpoints yet.'));
    return { title: name, crumbs: crumbsList, nodes };
  }
  // The window's objective report, its slots that left no restorable
  // checkpoint and the cluster's restore jobs, read side by side.
  const from = isoSeconds(Date.parse(cps[0].timestamp));
  const notes = [];
  const [report, slots, jobs] = await Promise.all([
    optional('recovery point objective', () => api.objective(id, name, from), notes),
    optional('slot records', () => api.troubledSlots(id, name, from, MAX_SLOTS), notes),
    optional('restore jobs', async () => api.restoreJobs(id, (await api.cluster(id, name)).id, MAX_JOBS), notes),
  ]);
  // The interval comes from every checkpoint read, so that a short range
  // does not change it.
  const interval = inferInterval(cps.map((cp) => Date.parse(cp.timestamp)));
  const newestT = Date.parse(cps[cps.length - 1].timestamp);
  const statsArea = el('div', { class: 'stats-area' });
  const chartArea = el('div', { class: 'chart-area' });
  const slotArea = el('div', { id: 'slot-detail', class: 'slot-detail', 'aria-live': 'polite' });
  const showSlot = (sl) => slotArea.replaceChildren(slotDetail(sl));
  const buttons = RANGES.map((r) => {
    const b = el('button', { type: 'button', 'data-range': r.key }, r.label);
    b.addEventListener('click', () => {
      draw(r);
      // Linkable, without a hashchange (and so without reading again).
      history.replaceState(null, '', clusterHref(id, name) + (r === RANGES[0] ? '' : `?range=${r.key}`));
    });
    return b;
  });

  // draw charts the checkpoints of range r, with their figures.
  function draw(r) {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.range === r.key));
    const shown = cps.filter((cp) => Date.parse(cp.timestamp) >= newestT - r.ms);
    // The figure's inner width: its padding and border are 18 px.
    const width = Math.max(640, Math.floor((chartArea.clientWidth || 1200) - 18));
    const chart = renderTimeline(shown, width, interval, { slots: slots || [], objective: report, onSlot: showSlot });
    const figure = el('figure', { id: 'timeline', class: 'chart' }, chart.svg,
      el('figcaption', {}, legend(Boolean(report || slots)),
        el('span', { class: 'muted' }, (chart.bucket ? `Each bar is ${duration(chart.bucket)} of checkpoints, as tall as the share of its slots that have one (not restorable ones in orange on top); choose a shorter range for each checkpoint's mark. ` : '') +
          `Gaps: more than ${GAP_FACTOR} × the interval between consecutive checkpoints. Hover a mark for details; click a slot's diamond for its steps.` +
          (notes.length ? ` Not shown: ${notes.join('; ')}.` : ''))));
    chartArea.replaceChildren(figure);
    statsArea.replaceChildren(
      el('dl', { class: 'stats' },
        stat('Checkpoints shown', `${shown.length} of ${data.total}`),
        stat('From', utc(Date.parse(shown[0].timestamp))),
        stat('Newest', utc(newestT)),
        stat('Interval (inferred)', interval ? duration(interval) : '—'),
        stat('Not restorable', String(chart.notRestorable), chart.notRestorable ? 'warn' : ''),
        stat('Gaps', String(chart.gaps.length), chart.gaps.length ? 'warn' : ''),
        ...(slots ? [stat('Slots skipped, failed or missed', String(chart.slotMarks), chart.slotMarks ? 'warn' : '')] : []),
        ...(report ? objectiveStats(report) : [])));
  }

  nodes.push(statsArea,
    el('div', { class: 'range', role: 'group', 'aria-label': 'Time range of the chart' }, el('span', { class: 'muted' }, 'Chart the last'), ...buttons),
    chartArea,
    slotArea,
    newestTable(cps.slice(-NEWEST).reverse(), id, name, jobs));
  // Drawn once the nodes are in the page, so that the chart takes its width.
  return { title: name, crumbs: crumbsList, nodes, after: () => draw(range) };
}

function stat(label, value, cls = '') {
  return el('div', { class: `stat ${cls}` }, el('dt', {}, label), el('dd', {}, value));
}

// objectiveStats are the figures of the objective report over the
// window (since the first checkpoint read, whatever range is charted):
// the objective and whether it is met now, the exposure, the worst gap,
// the share of slots that left a restorable checkpoint.
function objectiveStats(r) {
  const out = [];
  const since = ` since ${day(r.from)}`;
  if (r.recoveryPointObjectiveMin) {
    out.push(stat('Objective', `${duration(r.recoveryPointObjectiveMin * 60e3)}, ${r.objectiveMet ? 'met' : 'NOT met'} now`, r.objectiveMet ? '' : 'warn'));
    const missed = r.missed.reduce((n, m) => n + m.seconds, 0);
    out.push(stat(`Objective missed${since}`, r.missed.length ? `${duration(missed * 1000)} in ${r.missed.length}` : 'never', r.missed.length ? 'warn' : ''));
  } else {
    out.push(stat('Objective', 'none declared'));
  }
  out.push(stat('Exposure now', r.exposureSeconds === null ? 'no restore point' : duration(r.exposureSeconds * 1000)));
  if (r.worstGap) out.push(stat(`Worst gap${since}`, duration(r.worstGap.seconds * 1000)));
  if (r.slots.ratio !== null) {
    out.push(stat(`Slots restorable${since}`, `${(100 * r.slots.ratio).toFixed(1)} % of ${r.slots.total}`, r.slots.ratio < 1 ? 'warn' : ''));
  }
  return out;
}

// slotDetail is what a slot record says: its outcome and reason, then
// each step it went through.
function slotDetail(sl) {
  return el('div', { class: `slot-box ${sl.outcome.toLowerCase()}`, 'data-slot': sl.slot },
    el('p', {}, el('strong', {}, sl.outcome.replace('_', ' ')), ` slot of ${utc(Date.parse(sl.slot))}`,
      sl.reason ? el('span', {}, ' · ', el('code', {}, sl.reason)) : ''),
    sl.detail ? el('p', { class: 'slot-why' }, sl.detail + (sl.part ? ` (${sl.part})` : '')) : '',
    (sl.steps || []).length
      ? el('ol', { class: 'slot-steps' }, ...sl.steps.map((st) => el('li', {}, `${utc(Date.parse(st.at))} ${st.step.toLowerCase().replaceAll('_', ' ')}`, st.part ? ` (${st.part})` : '')))
      : el('p', { class: 'muted' }, 'No step was taken.'),
    el('p', { class: 'muted' }, `Recorded by ${(sl.source || '').toLowerCase()} at ${utc(Date.parse(sl.recorded))}. `, el('span', { class: 'sr-only' }, slotText(sl))));
}

// restoreLinks are a checkpoint's restore jobs, a link per batch (one job
// per part), to its first job as Cloud Manager shows it, named by the
// batch's status: under way while one part is, else failed if one is.
function restoreLinks(jobs, groupId) {
  const batches = new Map();
  for (const j of jobs) {
    if (!batches.has(j.batchId)) batches.set(j.batchId, []);
    batches.get(j.batchId).push(j);
  }
  return [...batches.values()].map((b) => {
    const statuses = b.map((j) => j.statusName);
    const status = ['IN_PROGRESS', 'BROKEN', 'KILLED'].find((st) => statuses.includes(st)) || 'FINISHED';
    const first = b[0];
    return el('a', { class: 'restore-job', 'data-batch': first.batchId, 'data-status': status,
      href: `../api/public/v1.0/groups/${enc(groupId)}/clusters/${enc(first.clusterId)}/restoreJobs/${enc(first.id)}` },
    `restore ${status.toLowerCase().replace('_', ' ')}`);
  });
}

function newestTable(cps, groupId, cluster, jobs) {
  const t = (s) => (s ? utc(Date.parse(s)) : '—');
  const byCheckpoint = new Map();
  for (const j of jobs || []) {
    if (!byCheckpoint.has(j.checkpointId)) byCheckpoint.set(j.checkpointId, []);
    byCheckpoint.get(j.checkpointId).push(j);
  }
  return table(`The ${cps.length} newest checkpoints`,
    ['Checkpoint ID', 'Timestamp', 'Restorable', 'Started', 'Completed', 'Parts discovered', 'Restore plan', 'Restores'],
    cps.map((cp) => {
      const parts = cp.parts || [];
      const found = parts.filter((q) => q.tokenDiscovered).length;
      return el('tr', { 'data-id': cp.id, class: cp.restorable ? null : 'not-restorable' },
        el('td', { class: 'mono' }, cp.id),
        el('td', {}, t(cp.timestamp)),
        el('td', { class: cp.restorable ? 'ok' : 'bad' }, el('span', { 'aria-hidden': 'true' }, cp.restorable ? '● ' : '▲ '), cp.restorable ? 'yes' : 'no'),
        el('td', {}, t(cp.started)),
        el('td', {}, t(cp.completed)),
        el('td', { class: `num${found < parts.length ? ' bad' : ''}` }, `${found}/${parts.length}`),
        el('td', {}, planDetails(groupId, cluster, cp.id)),
        el('td', { class: 'restores' }, ...(byCheckpoint.has(cp.id) ? restoreLinks(byCheckpoint.get(cp.id), groupId) : [jobs ? '—' : ''])));
    }), 'newest');
}

// planDetails is a disclosure that reads a checkpoint's restore plan the
// first time it is opened: warnings when it cannot be restored, then one
// step per part in order, with mongorestore's --oplogLimit.
function planDetails(groupId, cluster, id) {
  const body = el('div', { class: 'plan' }, el('p', { class: 'muted' }, 'Loading…'));
  const details = el('details', { class: 'restore-plan' }, el('summary', {}, 'plan'), body);
  let read = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || read) return;
    read = true;
    try {
      const p = await api.restorePlan(groupId, cluster, id);
      const label = (q) => (q.shardName ? `shard ${q.shardName}` : q.replicaSetName ? `config server ${q.replicaSetName}` : `config host ${q.hostId}`);
      body.replaceChildren(
        ...(p.warnings || []).map((w) => el('p', { class: 'bad warning' }, el('span', { 'aria-hidden': 'true' }, '▲ '), w)),
        el('ol', { class: 'steps' }, ...p.steps.map((st) => el('li', { 'data-part': st.part.typeName },
          label(st.part), ': ',
          st.oplogLimit ? el('code', {}, `--oplogLimit ${st.oplogLimit}`) : el('span', { class: 'bad' }, 'no token')))));
      details.dataset.restorable = String(p.restorable);
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  });
  return details;
}

window.addEventListener('hashchange', render);
render();
