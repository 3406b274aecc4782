// The Server panel's cluster section: nodes, their health, and each shard's replicas with their log positions,
// from GET /cluster. A single-node server answers 422 there; the section then stays hidden and is not asked again.
import { api } from './api.js';
import { $, h } from './ui.js';

let clusterMode = null; // null: not known yet; false: single node (stop asking)

function replicaCell(r) {
  const state = !r.reachable ? 'unreachable' : r.serving ? 'serving' : 'catching up';
  const cls = !r.reachable ? 'error' : r.serving ? 'status-ok' : 'muted';
  return h('li', { 'data-node': r.node },
    h('strong', {}, r.node), `: ${r.appliedSequence.toLocaleString()} [${r.logFirstSequence.toLocaleString()}], ${r.documents.toLocaleString()} docs, `,
    h('span', { class: cls, title: r.error ?? '' }, state));
}

function render(status) {
  $('#cluster-node').textContent = status.node;
  $('#cluster-nodes tbody').replaceChildren(...status.nodes.map((n) =>
    h('tr', { 'data-node': n.name },
      h('td', {}, n.name + (n.name === status.node ? ' (this node)' : '')),
      h('td', {}, n.address),
      h('td', { class: n.status === 'Active' ? 'status-ok' : 'error' }, n.status))));
  const rows = [];
  for (const c of status.collections) {
    for (const s of c.shardStates) {
      const behind = Math.max(...s.replicas.map((r) => r.appliedSequence)) - Math.min(...s.replicas.map((r) => r.appliedSequence));
      rows.push(h('tr', { 'data-collection': c.name, 'data-shard': String(s.shard) },
        h('td', {}, `${c.name} (${c.replicas} replicas, ${c.writeConsistency})`),
        h('td', {}, String(s.shard)),
        h('td', {}, h('ul', { class: 'replicas' }, ...s.replicas.map(replicaCell)),
          behind > 0 ? h('small', { class: 'muted' }, `replicas differ by ${behind.toLocaleString()} operations`) : '')));
    }
  }
  $('#cluster-shards tbody').replaceChildren(...rows);
}

/** Refreshes the section; called by the Server panel on each of its refreshes. */
export async function refresh() {
  if (clusterMode === false) return;
  const section = $('#cluster'), error = $('#cluster-error');
  try {
    render(await api('/cluster'));
    clusterMode = true;
    section.hidden = false;
    error.textContent = '';
  } catch (e) {
    if (e.status === 422) {
      clusterMode = false;
      section.hidden = true;
    } else if (clusterMode) {
      error.textContent = `Cannot read the cluster status: ${e.message}`;
    }
  }
}
