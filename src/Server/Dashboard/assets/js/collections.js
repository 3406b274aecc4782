import { api } from './api.js';
import { $, h, confirmDialog, numberValue } from './ui.js';
import { state, refreshCollections, onCollections, setCurrent } from './state.js';

function indexSummary(c) {
  return c.index === 'hnsw' ? `hnsw (M ${c.m}, efC ${c.efConstruction})` : c.index;
}

function render(collections) {
  const rows = collections.map((c) => h('tr', {},
    h('th', { scope: 'row' }, c.name),
    h('td', { class: 'num' }, c.documentCount.toLocaleString()),
    h('td', {}, c.metric),
    h('td', {}, c.encoder ?? 'none'),
    h('td', { class: 'num' }, c.dimension),
    h('td', {}, indexSummary(c)),
    h('td', { class: 'num' }, c.shards),
    h('td', {}, h('time', { datetime: c.createdAt }, new Date(c.createdAt).toLocaleString())),
    h('td', {}, h('div', { class: 'row-actions' },
      h('a', { href: `#browse/${encodeURIComponent(c.name)}`, onclick: () => setCurrent(c.name), 'aria-label': `Browse ${c.name}` }, 'Browse'),
      h('a', { href: `#search/${encodeURIComponent(c.name)}`, onclick: () => setCurrent(c.name), 'aria-label': `Search ${c.name}` }, 'Search'),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Delete collection ${c.name}`, onclick: () => remove(c) }, 'Delete'))),
  ));
  $('#collections-table tbody').replaceChildren(...rows);
  $('#collections-empty').hidden = collections.length > 0;
}

async function remove(c) {
  const ok = await confirmDialog(`Delete collection “${c.name}”?`,
    `This deletes the collection and its ${c.documentCount.toLocaleString()} documents. It cannot be undone.`, 'Delete collection');
  if (!ok) return;
  try {
    await api(`/collections/${encodeURIComponent(c.name)}`, { method: 'DELETE' });
  } catch (e) {
    $('#create-error').textContent = e.message;
  }
  await refreshCollections();
  $('#h-collections').focus();
}

async function loadEncoders() {
  try {
    const { models, defaultEncoder } = await api('/models');
    const select = $('#create-encoder');
    // The server's default comes first and preselected, so the form creates what an API call without an encoder would.
    const ordered = [...models.filter((m) => m.name === defaultEncoder), ...models.filter((m) => m.name !== defaultEncoder)];
    select.replaceChildren(...ordered.map((m) => new Option(`${m.name} (${m.dimension}d, ${m.kind}${m.name === defaultEncoder ? ', default' : ''})`, m.name)),
      new Option('none (bring vectors)', ''));
    select.value = defaultEncoder;
    syncCreateFields();
  } catch { /* keep the built-in choices */ }
}

/** Shows the fields that apply: a dimension for raw vectors, text options for an encoder, the index dimension for a projection. */
function syncCreateFields() {
  const raw = $('#create-encoder').value === '';
  $('#create-dimension-field').hidden = !raw;
  for (const field of document.querySelectorAll('.create-text-field')) field.hidden = raw;
  $('#create-index-dimension-field').hidden = $('#create-projection').value === 'none';
}

async function create(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $('#create-error');
  error.textContent = '';
  $('#create-status').textContent = '';
  const name = $('#create-name');
  if (!name.checkValidity()) {
    name.setAttribute('aria-invalid', 'true');
    error.textContent = 'Name: required; letters, digits, _ . - (starting with a letter or digit).';
    name.focus();
    return;
  }
  name.removeAttribute('aria-invalid');
  const encoder = $('#create-encoder').value;
  const body = {
    metric: $('#create-metric').value,
    index: $('#create-index').value,
    encoder: encoder || undefined,
    dimension: encoder ? undefined : numberValue($('#create-dimension')),
    m: numberValue($('#create-m')),
    efConstruction: numberValue($('#create-efc')),
    shards: numberValue($('#create-shards')),
    projection: $('#create-projection').value === 'none' ? undefined : $('#create-projection').value,
    indexDimension: $('#create-projection').value === 'none' ? undefined : numberValue($('#create-index-dimension')),
    // Text options only mean something when the collection embeds text. The box starts checked (the server's
    // default for an encoder collection), so unchecking it must say "text": false rather than leave it unset.
    text: encoder ? $('#create-text').checked : undefined,
    chunkTokens: encoder ? numberValue($('#create-chunk-tokens')) : undefined,
    chunkOverlap: encoder ? numberValue($('#create-chunk-overlap')) : undefined,
  };
  try {
    const created = await api(`/collections/${encodeURIComponent(name.value.trim())}`, { method: 'PUT', body });
    form.reset();
    syncCreateFields();
    setCurrent(created.name);
    await refreshCollections();
    error.textContent = '';
    $('#create-status').textContent = `Created ${created.name}.`;
  } catch (e) {
    error.textContent = e.message;
  }
}

export function init() {
  onCollections(render);
  $('#create-form').addEventListener('submit', create);
  $('#create-encoder').addEventListener('change', syncCreateFields);
  $('#create-projection').addEventListener('change', syncCreateFields);
  $('#collections-refresh').addEventListener('click', () => refreshCollections());
  loadEncoders();
}

export function show() {
  refreshCollections().catch(() => {});
  render(state.collections);
}
