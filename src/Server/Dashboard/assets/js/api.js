// The one place that talks to the server: adds the API key, turns problem details into ApiError,
// and parses server-sent events from a POST (EventSource can only GET and cannot send headers).

const KEY = 'vectorstore.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) ?? '',
  set: (value) => value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY),
};

/** A refused request: the server's RFC 7807 problem (status, title, detail, field). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered HTTP ${status}.`);
    this.status = status;
    this.title = problem?.title ?? '';
    this.field = problem?.field ?? null;
  }
}

const listeners = new Set();
/** Called with every ApiError, e.g. to show "an API key is needed" on 401. */
export function onApiError(listener) { listeners.add(listener); }

function headers(json) {
  const h = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  const key = apiKey.get();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function fail(response) {
  let problem = null;
  try { problem = await response.json(); } catch { /* not JSON: keep the status */ }
  const error = new ApiError(response.status, problem);
  listeners.forEach((l) => l(error));
  return error;
}

/** fetch + JSON. Returns the parsed body, or null for 204. Throws ApiError. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const response = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal,
  });
  if (!response.ok) throw await fail(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * POSTs a JSON body and calls onEvent(name, data) for each server-sent event as it arrives
 * (data parsed as JSON when it is JSON). Resolves when the stream ends. Throws ApiError on a refused request.
 */
export async function postEventStream(path, body, onEvent, signal) {
  const response = await fetch(path, {
    method: 'POST',
    // problem+json too: a refusal comes back as a problem, and the server only writes one the client accepts.
    headers: { ...headers(true), Accept: 'text/event-stream, application/problem+json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await fail(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
  if (buffer.trim()) dispatch(buffer, onEvent);
}

function dispatch(block, onEvent) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return;
  const text = data.join('\n');
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* plain text data */ }
  onEvent(name, parsed);
}
