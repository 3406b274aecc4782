import { api, postEventStream } from './api.js';
import { $, h, numberValue, truncate } from './ui.js';
import { state, setCurrent, docLink } from './state.js';

let controller = null;

async function loadGenerators() {
  try {
    const { generators } = await api('/generators');
    const select = $('#chat-generator');
    select.replaceChildren(new Option('server default', ''), ...generators.map((g) => new Option(g.name ?? String(g), g.name ?? String(g))));
  } catch { /* the chat endpoint may be absent or need a key: keep the default */ }
}

/** Turns the answer's "[n]" markers into links to the cited documents, once the stream is complete. */
function linkMarkers(answer, collection, citations) {
  const byIndex = new Map(citations.map((c) => [String(c.index), c]));
  const text = answer.textContent;
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const citation = byIndex.get(match[1]);
    if (!citation) continue;
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(h('a', { href: docLink(collection, citation.documentId), title: `Source: ${citation.documentId}` }, match[0]));
    last = match.index + match[0].length;
  }
  if (!nodes.length) return;
  if (last < text.length) nodes.push(text.slice(last));
  answer.replaceChildren(...nodes);
}

function renderCitations(collection, citations) {
  $('#chat-citations').replaceChildren(...citations.map((c) => h('li', { id: `citation-${c.index}` },
    h('a', { href: docLink(collection, c.documentId), class: 'mono' }, c.documentId),
    c.chunk ? ` (passage ${c.chunk + 1})` : '',
    h('span', { class: 'muted' }, ` score ${c.score.toFixed(3)}`),
    h('span', { class: 'meta' }, truncate(c.text, 240)))));
}

async function ask(event) {
  event.preventDefault();
  const error = $('#chat-error'), answer = $('#chat-answer'), status = $('#chat-status');
  error.textContent = '';
  const question = $('#chat-question').value.trim();
  const name = state.current;
  if (!name) { error.textContent = 'Create a collection first.'; return; }
  if (!question) { error.textContent = 'Ask a question.'; $('#chat-question').focus(); return; }

  const body = {
    question,
    stream: true,
    k: numberValue($('#chat-k')),
    temperature: numberValue($('#chat-temperature')),
    topK: numberValue($('#chat-top-k')),
    topP: numberValue($('#chat-top-p')),
    maxTokens: numberValue($('#chat-max-tokens')),
    generator: $('#chat-generator').value || undefined,
  };
  controller = new AbortController();
  answer.textContent = '';
  answer.dataset.tokens = '0';
  answer.setAttribute('aria-busy', 'true');
  $('#chat-citations').replaceChildren();
  status.textContent = 'Retrieving passages…';
  $('#chat-ask').disabled = true;
  $('#chat-stop').disabled = false;
  const started = performance.now();
  let tokens = 0;
  let citations = [];
  try {
    await postEventStream(`/collections/${encodeURIComponent(name)}/chat`, body, (kind, data) => {
      if (kind === 'citations') {
        citations = data.citations ?? [];
        renderCitations(name, citations);
        status.textContent = `Generating with ${data.generator}…`;
      } else if (kind === 'token') {
        tokens++;
        answer.append(data.text);
        answer.dataset.tokens = String(tokens);
      } else if (kind === 'done') {
        linkMarkers(answer, name, citations);
        const t = data.timings ?? {};
        status.textContent = `Done (${data.finishReason}): ${data.usage?.completionTokens ?? tokens} tokens, ` +
          `first token ${Math.round(t.timeToFirstTokenMs ?? 0)} ms, ${t.tokensPerSecond > 0 ? `${Math.round(t.tokensPerSecond)} tokens/s, ` : ''}` +
          `total ${Math.round(t.totalMs ?? performance.now() - started)} ms.`;
      } else if (kind === 'error') {
        error.textContent = data.detail ?? String(data);
      }
    }, controller.signal);
  } catch (e) {
    if (e.name === 'AbortError') status.textContent = 'Stopped.';
    else { error.textContent = e.message; status.textContent = ''; }
  } finally {
    answer.removeAttribute('aria-busy');
    $('#chat-ask').disabled = false;
    $('#chat-stop').disabled = true;
    controller = null;
  }
}

export function init() {
  $('#chat-form').addEventListener('submit', ask);
  $('#chat-stop').addEventListener('click', () => controller?.abort());
  $('#chat-collection').addEventListener('change', (e) => setCurrent(e.target.value));
  $('#chat-question').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('#chat-form').requestSubmit(); });
  loadGenerators();
}

export function show([collection] = []) {
  if (collection) setCurrent(collection);
}
