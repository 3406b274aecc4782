// Shared state: the collection list (refreshed on demand) and which collection each panel shows.
import { api } from './api.js';

const subscribers = new Set();
export const state = { collections: [], current: sessionStorage.getItem('vectorstore.collection') ?? '' };

export function onCollections(fn) { subscribers.add(fn); }

export async function refreshCollections() {
  const body = await api('/collections');
  state.collections = body.collections;
  if (!state.collections.some((c) => c.name === state.current)) {
    setCurrent(state.collections[0]?.name ?? '');
  }
  subscribers.forEach((fn) => fn(state.collections));
  return state.collections;
}

export function setCurrent(name) {
  state.current = name;
  if (name) sessionStorage.setItem('vectorstore.collection', name);
  document.querySelectorAll('select.collection-select').forEach((s) => { if (s.value !== name) s.value = name; });
}

export const collectionInfo = (name) => state.collections.find((c) => c.name === name);

export const docLink = (collection, id) => `#browse/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`;

// Every panel's collection picker mirrors the list and the current choice.
onCollections((collections) => {
  document.querySelectorAll('select.collection-select').forEach((select) => {
    select.replaceChildren(...collections.map((c) => new Option(`${c.name} (${c.documentCount})`, c.name)));
    if (!collections.length) select.append(new Option('no collections', ''));
    select.value = state.current;
  });
});
