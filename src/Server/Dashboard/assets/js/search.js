import { api, ApiError } from './api.js';
import { $, h, highlight, queryTerms, setFieldError, numberValue } from './ui.js';
import { state, setCurrent, collectionInfo, docLink } from './state.js';

/** Bar length in [0, 1]: similarities as they are (cosine) or relative to the best (dot), distances inverted (l2). */
function barWidth(metric, score, best) {
  if (metric === 'l2') return 1 / (1 + Math.max(0, score));
  if (metric === 'cosine') return Math.max(0, Math.min(1, score));
  return best > 0 ? Math.max(0, score / best) : 0;
}

/** Parses the query box: a JSON array is a vector, anything else is text. Returns {text} or {vector}, or throws a message. */
function parseQuery(raw) {
  const value = raw.trim();
  if (!value) throw new Error('Enter some text or a JSON vector.');
  if (!value.startsWith('[')) return { text: value };
  let vector;
  try { vector = JSON.parse(value); } catch (e) { throw new Error(`Vector is not valid JSON: ${e.message}`); }
  if (!Array.isArray(vector) || !vector.length || !vector.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error('A vector must be a non-empty JSON array of finite numbers.');
  }
  return { vector };
}

/** Parses the filter box: empty means none; otherwise a JSON object, or throws a message. */
function parseFilter(raw) {
  const value = raw.trim();
  if (!value) return undefined;
  let filter;
  try { filter = JSON.parse(value); } catch (e) { throw new Error(`Filter is not valid JSON: ${e.message}`); }
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw new Error('Filter must be a JSON object, e.g. {"kind": "pet"}.');
  return filter;
}

async function search(event) {
  event.preventDefault();
  const queryInput = $('#search-query'), filterInput = $('#search-filter');
  const queryError = $('#search-query-error'), filterError = $('#search-filter-error'), error = $('#search-error');
  setFieldError(queryInput, queryError, null);
  setFieldError(filterInput, filterError, null);
  error.textContent = '';
  const name = state.current;
  if (!name) { error.textContent = 'Create a collection first.'; return; }

  let query, filter;
  try { query = parseQuery(queryInput.value); } catch (e) { setFieldError(queryInput, queryError, e.message); queryInput.focus(); return; }
  try { filter = parseFilter(filterInput.value); } catch (e) { setFieldError(filterInput, filterError, e.message); filterInput.focus(); return; }

  const body = { ...query, k: numberValue($('#search-k')) ?? 10, filter, exact: $('#search-exact').checked, ef: numberValue($('#search-ef')) };
  const started = performance.now();
  try {
    const { results } = await api(`/collections/${encodeURIComponent(name)}/query`, { method: 'POST', body });
    const ms = performance.now() - started;
    render(name, results, query.text ?? '');
    $('#search-summary').textContent = `${results.length} result${results.length === 1 ? '' : 's'} in ${ms.toFixed(1)} ms (round trip)`;
  } catch (e) {
    $('#search-results').replaceChildren();
    $('#search-summary').textContent = '';
    // The server names the offending field: show its message next to that input.
    if (e instanceof ApiError && e.field?.startsWith('filter')) { setFieldError(filterInput, filterError, e.message); filterInput.focus(); }
    else if (e instanceof ApiError && (e.field === 'text' || e.field?.startsWith('vector'))) { setFieldError(queryInput, queryError, e.message); queryInput.focus(); }
    else error.textContent = e.message;
  }
}

function render(collection, results, text) {
  const metric = collectionInfo(collection)?.metric ?? 'cosine';
  const terms = queryTerms(text);
  const best = results[0]?.score ?? 0;
  $('#search-results').replaceChildren(...results.map((r, i) => {
    const bar = h('span');
    bar.style.width = `${(barWidth(metric, r.score, best) * 100).toFixed(1)}%`;
    return h('li', { class: 'result' },
      h('div', { class: 'result-head' },
        h('span', { class: 'rank' }, `#${i + 1}`),
        h('a', { href: docLink(collection, r.id), class: 'mono' }, r.id),
        h('span', { class: 'score', title: metric === 'l2' ? 'Euclidean distance (lower is closer)' : `${metric} similarity` },
          h('span', { class: 'bar', 'aria-hidden': 'true' }, bar),
          h('span', {}, `${metric === 'l2' ? 'distance' : 'score'} ${r.score.toFixed(4)}`))),
      // A long document matched through one of its chunks: show that chunk, not the start of the text.
      r.highlight
        ? h('p', { class: 'result-text' },
            h('span', { class: 'muted chunk-label' }, `chunk ${r.highlight.chunk} · characters ${r.highlight.start}–${r.highlight.end}: `),
            r.highlight.start > 0 ? '… ' : '', ...highlight(r.highlight.text, terms), r.highlight.end < (r.text?.length ?? 0) ? ' …' : '')
        : h('p', { class: 'result-text' }, r.text ? highlight(r.text, terms) : h('span', { class: 'muted' }, '(no text)')),
      Object.keys(r.metadata ?? {}).length
        ? h('ul', { class: 'chips', 'aria-label': 'Metadata' }, Object.entries(r.metadata).map(([k, v]) => h('li', {}, `${k}: ${JSON.stringify(v)}`)))
        : null);
  }));
}

export function init() {
  $('#search-form').addEventListener('submit', search);
  $('#search-collection').addEventListener('change', (e) => setCurrent(e.target.value));
  // Ctrl/Cmd+Enter submits from the text areas.
  for (const id of ['#search-query', '#search-filter']) {
    $(id).addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('#search-form').requestSubmit(); });
  }
}

export function show([collection] = []) {
  if (collection) setCurrent(collection);
}
