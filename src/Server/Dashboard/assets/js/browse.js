import { api } from './api.js';
import { $, h, confirmDialog, truncate, formatMetadata } from './ui.js';
import { state, setCurrent, refreshCollections, docLink } from './state.js';

let offset = 0;
let total = 0;
let openId = null;

const limit = () => Number($('#browse-limit').value);

async function loadPage() {
  const error = $('#browse-error');
  error.textContent = '';
  const name = state.current;
  if (!name) {
    $('#browse-table tbody').replaceChildren();
    $('#browse-range').textContent = 'No collection selected.';
    return;
  }
  try {
    const page = await api(`/collections/${encodeURIComponent(name)}/documents?offset=${offset}&limit=${limit()}`);
    total = page.total;
    if (offset > 0 && offset >= total) { offset = Math.max(0, total - limit()); return loadPage(); }
    $('#browse-table tbody').replaceChildren(...page.documents.map((d) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: docLink(name, d.id), class: 'mono' }, d.id)),
      h('td', { class: 'preview' }, truncate(d.text, 140) || h('span', { class: 'muted' }, '(no text)')),
      h('td', { class: 'meta' }, formatMetadata(d.metadata)),
      h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Delete document ${d.id}`, onclick: () => remove(d.id) }, 'Delete')),
    )));
    $('#browse-range').textContent = total === 0 ? 'The collection is empty.'
      : `Showing ${offset + 1}–${offset + page.documents.length} of ${total.toLocaleString()}`;
    $('#browse-prev').disabled = offset === 0;
    $('#browse-next').disabled = offset + limit() >= total;
  } catch (e) {
    error.textContent = e.message;
  }
}

async function openDocument(id) {
  const view = $('#doc-view');
  try {
    const d = await api(`/collections/${encodeURIComponent(state.current)}/documents/${encodeURIComponent(id)}`);
    openId = d.id;
    $('#doc-title').textContent = `Document ${d.id}`;
    $('#doc-id').textContent = d.id;
    $('#doc-text').textContent = d.text ?? '(no text)';
    $('#doc-metadata').textContent = JSON.stringify(d.metadata ?? {}, null, 2);
    $('#doc-vector').replaceChildren(h('button', { type: 'button', class: 'secondary', id: 'doc-load-vector', onclick: loadVector }, 'Show vector'));
    view.hidden = false;
    $('#doc-title').focus();
  } catch (e) {
    view.hidden = true;
    $('#browse-error').textContent = e.message;
  }
}

async function loadVector() {
  const d = await api(`/collections/${encodeURIComponent(state.current)}/documents/${encodeURIComponent(openId)}?includeVector=true`);
  const v = d.vector ?? [];
  $('#doc-vector').replaceChildren(h('p', { class: 'muted' }, `${v.length} dimensions`),
    h('pre', {}, `[${v.map((x) => x.toFixed(4)).join(', ')}]`));
}

function closeDocument() {
  $('#doc-view').hidden = true;
  openId = null;
  if (location.hash.split('/').length > 2) history.replaceState(null, '', `#browse/${encodeURIComponent(state.current)}`);
}

async function remove(id) {
  const ok = await confirmDialog(`Delete document “${id}”?`, `It is removed from “${state.current}” for good.`, 'Delete document');
  if (!ok) return;
  try {
    await api(`/collections/${encodeURIComponent(state.current)}/documents/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (openId === id) closeDocument();
    $('#browse-range').textContent = `Deleted ${id}.`;
  } catch (e) {
    $('#browse-error').textContent = e.message;
  }
  await Promise.all([loadPage(), refreshCollections().catch(() => {})]);
}

export function init() {
  $('#browse-collection').addEventListener('change', (e) => {
    setCurrent(e.target.value);
    offset = 0;
    closeDocument();
    loadPage();
  });
  $('#browse-limit').addEventListener('change', () => { offset = 0; loadPage(); });
  $('#browse-prev').addEventListener('click', () => { offset = Math.max(0, offset - limit()); loadPage(); });
  $('#browse-next').addEventListener('click', () => { offset += limit(); loadPage(); });
  $('#doc-close').addEventListener('click', () => { closeDocument(); $('#h-browse').focus(); });
  $('#doc-delete').addEventListener('click', () => openId && remove(openId));
}

/** route: [collection?, documentId?] */
export async function show([collection, documentId] = []) {
  if (collection && collection !== state.current) { setCurrent(collection); offset = 0; }
  await loadPage();
  if (documentId) await openDocument(documentId);
  else $('#doc-view').hidden = true;
}
