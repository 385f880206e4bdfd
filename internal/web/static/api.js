// Reading the server's own Atlas Administration API v2. The page is served
// from /ui/ on the same origin, so its requests carry the HTTP Digest
// credentials the browser was given for the page: no key is ever handled
// here.

const ACCEPT = 'application/vnd.atlas.2023-01-01+json';

// Relative to the page (/ui/), so that it also works behind a proxy that
// serves the server under a path prefix.
const BASE = '../api/atlas/v2/';

// ApiError is an error answer of the API ({error, errorCode, detail}), or
// a failure to reach it.
export class ApiError extends Error {
  constructor(status, code, detail, path) {
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.path = path;
  }
}

// ADMIN is checkpointd's own administration API, for what the service's
// generations do not have (the restore plan of a checkpoint).
const ADMIN = '../api/checkpointd/v1/';

// get reads one API resource, relative to /api/atlas/v2/, and returns its
// JSON body or throws an ApiError.
export function get(path) {
  return fetchJSON(BASE, path, ACCEPT);
}

// fetchJSON reads base+path with the Accept header accept.
async function fetchJSON(base, path, accept) {
  // Without any user:password@ of the page's own address: fetch() refuses
  // such URLs, and the browser has the credentials cached already.
  const url = new URL(base + path, location.href);
  url.username = '';
  url.password = '';
  let res;
  try {
    res = await fetch(url, { headers: { Accept: accept }, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'NETWORK_ERROR', `The server could not be reached (${e.message || e}).`, path);
  }
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const code = body && typeof body.errorCode === 'string' ? body.errorCode : `HTTP_${res.status}`;
    const detail = body && typeof body.detail === 'string' ? body.detail : (text.slice(0, 200) || res.statusText);
    throw new ApiError(res.status, code, detail, path);
  }
  if (body === null) {
    throw new ApiError(res.status, 'INVALID_RESPONSE', 'The response is not JSON.', path);
  }
  return body;
}

const seg = encodeURIComponent;

export const projects = () => get('groups?itemsPerPage=500');
export const project = (id) => get(`groups/${seg(id)}`);
export const clusters = (id) => get(`groups/${seg(id)}/clusters?itemsPerPage=500`);

// restorePlan is how to restore a checkpoint by hand: per part, config
// server first, the oplog position to stop at (administration API).
export const restorePlan = (id, cluster, checkpoint) =>
  fetchJSON(ADMIN, `groups/${seg(id)}/clusters/${seg(cluster)}/checkpoints/${seg(checkpoint)}/restorePlan`, 'application/json');

// PAGE is the API's largest page.
const PAGE = 500;

// objective is a cluster's restore points against its recovery point
// objective from `from` (an ISO time) to now: exposure, worst gap, slot
// share and the stretches that missed it (administration API).
export const objective = (id, cluster, from) =>
  fetchJSON(ADMIN, `groups/${seg(id)}/clusters/${seg(cluster)}/rpo?from=${seg(from)}`, 'application/json');

// UNEXPLAINED are the outcomes of the slots that left no restorable
// checkpoint, whose records say why.
const UNEXPLAINED = 'NOT_RESTORABLE,SKIPPED,FAILED,MISSED';

// troubledSlots returns a cluster's slot records from `from` (an ISO time)
// on that left no restorable checkpoint, newest first, at most `max`
// (administration API).
export async function troubledSlots(id, cluster, from, max) {
  const base = `groups/${seg(id)}/clusters/${seg(cluster)}/slots?outcome=${UNEXPLAINED}&from=${seg(from)}&itemsPerPage=${PAGE}`;
  const out = [];
  for (let p = 1; out.length < max; p++) {
    const page = await fetchJSON(ADMIN, `${base}&pageNum=${p}`, 'application/json');
    out.push(...page.results);
    if (page.results.length < PAGE) break;
  }
  return out.slice(0, max);
}

// CM is the Cloud Manager public API, whose restore jobs name the
// checkpoint they restore (Atlas's do not).
const CM = '../api/public/v1.0/';

// restoreJobs returns a cluster's restore jobs (by cluster id), at most
// `max`, as Cloud Manager lists them: each with checkpointId, batchId,
// statusName and its self link.
export async function restoreJobs(id, clusterId, max) {
  const base = `groups/${seg(id)}/clusters/${seg(clusterId)}/restoreJobs?itemsPerPage=${PAGE}`;
  const out = [];
  for (let p = 1; out.length < max; p++) {
    const page = await fetchJSON(CM, `${base}&pageNum=${p}`, 'application/json');
    out.push(...page.results);
    if (page.results.length < PAGE) break;
  }
  return out;
}

export const cluster = (id, name) => get(`groups/${seg(id)}/clusters/${seg(name)}`);

// recentCheckpoints returns a cluster's newest checkpoints, oldest first:
// those of the last `windowMs` before the newest one, at most `max`.
// The API lists checkpoints oldest first, so the newest are on the last
// page: a one-item request gives totalCount, then pages are read from the
// last one backwards until the window or `max` is covered. If checkpoints
// were added in between so that a page appeared after the last one, it is
// read too.
export async function recentCheckpoints(groupId, cluster, windowMs, max) {
  const base = `groups/${seg(groupId)}/clusters/${seg(cluster)}/backupCheckpoints`;
  const probe = await get(`${base}?itemsPerPage=1&pageNum=1&includeCount=true`);
  let total = probe.totalCount;
  const byId = new Map();
  if (total > 0) {
    let last = Math.ceil(total / PAGE);
    for (let p = last; p >= 1; p--) {
      const page = await get(`${base}?itemsPerPage=${PAGE}&pageNum=${p}&includeCount=true`);
      for (const cp of page.results) byId.set(cp.id, cp);
      if (p === last && Math.ceil(page.totalCount / PAGE) > last) {
        last = Math.ceil(page.totalCount / PAGE);
        p = last + 1; // the loop's p-- reads the new last page next
      }
      total = page.totalCount;
      if (byId.size >= max || spanOf(byId) >= windowMs) break;
    }
  }
  let items = [...byId.values()].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  if (items.length > 0) {
    const from = Date.parse(items[items.length - 1].timestamp) - windowMs;
    items = items.filter((cp) => Date.parse(cp.timestamp) >= from);
  }
  if (items.length > max) items = items.slice(items.length - max);
  return { total, items };
}

function spanOf(byId) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const cp of byId.values()) {
    const t = Date.parse(cp.timestamp);
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return hi - lo;
}
