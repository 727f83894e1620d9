// netdump dashboard: polls the server's JSON API (docs/operations.md, "HTTP API") and redraws.
// Live sessions every second, dumps and panic groups every few seconds and whenever a live
// session ends. Everything the server sends is put in the page as text, never as HTML: host
// names and panic strings come from crashed kernels.
'use strict';

const SESSIONS_EVERY_MS = 1000;
const LISTS_EVERY_MS = 3000;
const PAGE_SIZE = 50;
const TOKEN_KEY = 'netdump-token';

const view = { offset: 0, group: null, total: 0, liveKeys: null, token: null, listsTimer: 0, listsAsked: 0 };

// ---- the API ------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path) {
  const headers = { Accept: 'application/json' };
  if (view.token) headers.Authorization = `Bearer ${view.token}`;
  const response = await fetch(path, { headers, cache: 'no-store' });
  if (response.status === 401 || response.status === 403) throw new Unauthorized();
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function dumpsQuery() {
  const q = new URLSearchParams({ limit: PAGE_SIZE, offset: view.offset });
  const host = $('#filter-host').value.trim();
  const status = $('#filter-status').value;
  const since = $('#filter-since').value;
  if (host) q.set('host', host);
  if (status) q.set('status', status);
  if (since) q.set('since', since);
  if (view.group) q.set('group', view.group.id);
  return `api/dumps?${q}`;
}

// ---- formatting ---------------------------------------------------------------------------

const $ = (selector) => document.querySelector(selector);
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function size(bytes) {
  if (bytes == null) return '';
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes, unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

function rate(bytesPerSecond) {
  if (bytesPerSecond == null) return '';
  if (bytesPerSecond >= 0.1 * 1024 * 1024) return `${(bytesPerSecond / 1048576).toFixed(1)} MiB/s`;
  if (bytesPerSecond >= 0.1 * 1024) return `${(bytesPerSecond / 1024).toFixed(1)} KiB/s`;
  return `${Math.round(bytesPerSecond)} B/s`;
}

function duration(seconds) {
  if (seconds == null) return '';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function ago(iso) {
  if (!iso) return '';
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function clock(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  const today = new Date().toDateString() === t.toDateString();
  return today ? t.toLocaleTimeString([], { hour12: false })
    : t.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

// ---- building rows ------------------------------------------------------------------------

function cell(text, className, sub, title) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.append(document.createTextNode(text ?? ''));
  if (sub) {
    const span = document.createElement('span');
    span.className = 'sub';
    span.textContent = sub;
    td.append(span);
  }
  td.title = title ?? [text, sub].filter(Boolean).join('\n');
  return td;
}

function hostCell(item) {
  const ip = item.client_ip ?? '';
  return item.hostname ? cell(item.hostname, 'host', ip) : cell(ip, 'host mono');
}

// a receiving dump's progress (bytes, length once known, rates, time left); null once it ended
const progressOf = (item) => item.progress ?? { bytes_received: item.bytes_received, dump_length: item.dump_length };

function badge(status, reason) {
  const td = document.createElement('td');
  const span = document.createElement('span');
  span.className = `badge ${status}`;
  span.textContent = status;
  td.append(span);
  td.title = reason ? `${status}: ${reason}` : status;
  return td;
}

function progress(item) {
  const td = document.createElement('td');
  td.className = 'bar-cell';
  const bar = document.createElement('div');
  bar.className = 'bar';
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', '100');
  bar.append(document.createElement('span'), document.createElement('em'));
  td.append(bar);
  return td;
}

function setProgress(bar, p) {
  const known = p.dump_length > 0;
  const percent = known ? Math.min(100, (100 * p.bytes_received) / p.dump_length) : 0;
  bar.classList.toggle('unknown', !known);
  bar.firstChild.style.width = `${percent.toFixed(1)}%`;
  bar.lastChild.textContent = known ? `${Math.floor(percent)} %` : 'length not known yet';
  if (known) bar.setAttribute('aria-valuenow', percent.toFixed(1)); else bar.removeAttribute('aria-valuenow');
}

// ---- the three panes ----------------------------------------------------------------------

function showSessions(sessions) {
  const body = $('#sessions tbody');
  const rows = new Map([...body.rows].map((row) => [row.dataset.id, row]));
  for (const item of sessions) {
    let row = rows.get(item.id);
    rows.delete(item.id);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = item.id;
      row.append(hostCell(item), cell(item.node, 'node'), progress(item), cell('', 'num'), cell('', 'num'), cell('', 'num'), cell('', 'num'));
      body.append(row);
    }
    const p = progressOf(item);
    setProgress(row.cells[2].firstChild, p);
    setText(row.cells[3], size(p.bytes_received), p.dump_length ? `of ${size(p.dump_length)}` : '');
    setText(row.cells[4], rate(p.rate_bytes_per_second));
    setText(row.cells[5], duration(p.eta_seconds));
    setText(row.cells[6], ago(item.received_at), '', item.received_at);
  }
  for (const gone of rows.values()) gone.remove();
  $('#live-count').textContent = sessions.length ? `(${sessions.length})` : '';
  $('#live-empty').hidden = sessions.length > 0;
  $('#sessions').hidden = sessions.length === 0;

  // a session that ended is a dump that changed: show it now, not at the next tick
  const keys = sessions.map((s) => s.id).sort().join(' ');
  if (keys !== view.liveKeys) {
    view.liveKeys = keys;
    refreshLists();
  }
}

function setText(td, text, sub, title) {
  const replacement = cell(text, td.className, sub, title);
  td.replaceChildren(...replacement.childNodes);
  td.title = replacement.title;
}

function showDumps(page) {
  const body = $('#dump-table tbody');
  body.replaceChildren(...page.items.map((item) => {
    const row = document.createElement('tr');
    row.dataset.id = item.id;
    row.dataset.status = item.status;
    const why = item.status === 'complete' ? '' : item.reason ?? '';
    const panic = item.panic_string ?? (item.status === 'receiving' ? 'panic not known yet' : 'no panic string');
    row.append(
      cell(ago(item.received_at), 'when', clock(item.received_at), item.received_at),
      hostCell(item),
      cell(item.node, 'node'),
      badge(item.status, item.reason),
      cell(panic, item.panic_string ? 'panic' : 'panic missing', [why, item.kernel ?? item.version_string].filter(Boolean).join(' · ')),
      cell(size(item.dump_length ?? item.bytes_received), 'num'));
    return row;
  }));
  view.total = page.total;
  const first = page.items.length ? page.offset + 1 : 0;
  $('#page').textContent = `${first}–${page.offset + page.items.length} of ${page.total}`;
  $('#dumps-count').textContent = `(${page.total})`;
  $('#dumps-empty').hidden = page.items.length > 0;
  $('#newer').disabled = page.offset === 0;
  $('#older').disabled = page.offset + page.items.length >= page.total;
  noteNodes(page.items);
}

// the most recently seen groups, a page of the API's (its total in the title)
function showGroups(list) {
  const groups = list.items;
  const body = $('#group-table tbody');
  body.replaceChildren(...groups.map((group) => {
    const row = document.createElement('tr');
    row.dataset.id = group.id;
    if (view.group?.id === group.id) row.classList.add('selected');
    const panic = cell(group.panic, 'panic', group.kernel || 'kernel version not known', `${group.sample_panic ?? group.panic}\n${group.kernel ?? ''}`);
    if (group.storm_at) {
      const storm = Object.assign(document.createElement('span'), { className: 'storm', textContent: 'storm · ' });
      storm.title = `storm: many hosts within minutes, ${clock(group.storm_at)}`;
      panic.firstChild.before(storm);
    }
    const named = group.hosts ?? [];
    const more = group.host_count > named.length ? `\n… and ${group.host_count - named.length} more` : '';
    const hosts = cell(String(group.host_count), 'num', '', named.join('\n') + more);
    row.append(panic, hosts, cell(String(group.dumps), 'num'), cell(ago(group.last_seen), 'num', '', group.last_seen));
    row.addEventListener('click', () => chooseGroup(view.group?.id === group.id ? null : group));
    return row;
  }));
  $('#groups-count').textContent = !groups.length ? '' : groups.length < list.total ? `(${groups.length} of ${list.total})` : `(${list.total})`;
  $('#groups-empty').hidden = groups.length > 0;
}

// a node column only once there is more than one node to tell apart
const nodes = new Set();
function noteNodes(items) {
  for (const item of items) if (item.node) nodes.add(item.node);
  document.body.classList.toggle('fleet', nodes.size > 1);
  $('#summary').textContent = [location.host, ...nodes].filter(Boolean).join(' · ');
}

function chooseGroup(group) {
  view.group = group;
  view.offset = 0;
  const chip = $('#filter-group');
  chip.hidden = !group;
  chip.textContent = group ? `group: ${group.panic} ✕` : '';
  refreshLists();
}

// ---- polling ------------------------------------------------------------------------------

function connected(ok, why) {
  const state = $('#state');
  state.classList.toggle('down', !ok);
  state.textContent = ok ? `updated ${new Date().toLocaleTimeString([], { hour12: false })}` : why;
}

async function guarded(work) {
  try {
    await work();
    connected(true);
  } catch (e) {
    if (e instanceof Unauthorized) {
      $('#token-form').hidden = false;
      connected(false, 'access token needed');
    } else {
      connected(false, 'server not answering; retrying');
    }
  }
}

function pollSessions() {
  guarded(async () => {
    const sessions = await api('api/sessions');
    showSessions(sessions.items ?? sessions);
    noteNodes(sessions.items ?? sessions);
  }).finally(() => setTimeout(pollSessions, SESSIONS_EVERY_MS));
}

function refreshLists() {
  clearTimeout(view.listsTimer);
  const asked = ++view.listsAsked;
  guarded(async () => {
    const [page, groups] = await Promise.all([api(dumpsQuery()), api('api/groups')]);
    if (asked !== view.listsAsked) return; // a later question (a filter changed) is on its way
    showDumps(page);
    showGroups(groups);
  }).finally(() => {
    if (asked === view.listsAsked) view.listsTimer = setTimeout(refreshLists, LISTS_EVERY_MS);
  });
}

function start() {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    history.replaceState(null, '', location.pathname + location.search);
  }
  view.token = sessionStorage.getItem(TOKEN_KEY);

  $('#token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    view.token = $('#token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, view.token);
    $('#token-form').hidden = true;
    refreshLists();
  });
  $('#filters').addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['#filter-host', '#filter-status', '#filter-since']) {
    $(id).addEventListener('input', () => { view.offset = 0; refreshLists(); });
  }
  $('#filter-group').addEventListener('click', () => chooseGroup(null));
  $('#newer').addEventListener('click', () => { view.offset = Math.max(0, view.offset - PAGE_SIZE); refreshLists(); });
  $('#older').addEventListener('click', () => { view.offset += PAGE_SIZE; refreshLists(); });

  pollSessions();
}

start();
