import { api } from './api.js';
import { $, h, formatBytes, formatDuration } from './ui.js';
import * as cluster from './cluster.js';

let timer = null;

const ms = (x) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;

async function refresh() {
  cluster.refresh();
  const error = $('#server-error');
  try {
    const [health, s] = await Promise.all([api('/healthz').then(() => 'up', () => 'down'), api('/stats')]);
    const r = s.requests;
    const items = [
      ['Health', health === 'up' ? `up, ${s.status}` : 'down', health === 'up' && s.status === 'ready' ? 'status-ok' : ''],
      ['Version', s.version],
      ['Uptime', formatDuration(s.uptimeSeconds)],
      ['Collections', s.collections.toLocaleString()],
      ['Documents', s.documents.toLocaleString()],
      ['Ingest (docs/s, last minute)', s.ingest.documentsPerSecond.toFixed(1)],
      ['Documents written since start', s.ingest.totalDocuments.toLocaleString()],
      ['Queries/s', r.queriesPerSecond.toFixed(2)],
      ['Query latency p50', ms(r.queryLatency.p50Ms)],
      ['Query latency p99', ms(r.queryLatency.p99Ms)],
      ['Requests/s (all API)', r.requestsPerSecond.toFixed(2)],
      ['Request latency p99', ms(r.requestLatency.p99Ms)],
      ['Server errors (5xx), total', r.totalErrors.toLocaleString()],
      ['Working set', formatBytes(s.memory.workingSetBytes)],
      ['Managed heap', formatBytes(s.memory.managedBytes)],
      ['GC (gen0 / gen1 / gen2)', `${s.memory.gen0Collections} / ${s.memory.gen1Collections} / ${s.memory.gen2Collections}`],
      ['.NET', `${s.runtime.dotnet} on ${s.runtime.processors} cores`],
    ];
    $('#server-stats').replaceChildren(...items.map(([label, value, cls]) => h('div', {}, h('dt', {}, label), h('dd', { class: cls }, value))));
    error.textContent = '';
  } catch (e) {
    error.textContent = `Cannot read server statistics: ${e.message}`;
  }
}

export function init() {
  document.addEventListener('visibilitychange', () => { if (document.hidden) hide(); });
}

export function show() {
  hide();
  refresh();
  timer = setInterval(refresh, 2000);
}

export function hide() {
  clearInterval(timer);
  timer = null;
}
