// Hash routing between the panels: #collections, #browse/<collection>/<document id>, #search/<collection>,
// #chat/<collection>, #server. Each panel module has init() once and show(route) on every visit.
import { apiKey, onApiError } from './api.js';
import { $ } from './ui.js';
import { refreshCollections } from './state.js';
import * as collections from './collections.js';
import * as browse from './browse.js';
import * as search from './search.js';
import * as chat from './chat.js';
import * as server from './server.js';

const panels = { collections, browse, search, chat, server };
let current = null;

function route() {
  const [name, ...rest] = location.hash.slice(1).split('/').map(decodeURIComponent);
  const panel = panels[name] ? name : 'collections';
  const changed = panel !== current;
  if (changed) panels[current]?.hide?.();
  current = panel;
  for (const key of Object.keys(panels)) $(`#panel-${key}`).hidden = key !== panel;
  document.querySelectorAll('.tabs a').forEach((a) => {
    if (a.dataset.panel === panel) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.title = `${$(`#h-${panel}`).textContent} · VectorStore`;
  panels[panel].show(rest.filter(Boolean));
  // Move focus to the new panel's heading so keyboard and screen-reader users land in it.
  if (changed && document.activeElement?.closest('.tabs')) $(`#h-${panel}`).focus();
}

function initKey() {
  const input = $('#api-key'), state = $('#key-state');
  input.value = apiKey.get();
  const describe = () => { state.textContent = apiKey.get() ? 'key set for this tab' : ''; };
  describe();
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey.set(input.value.trim());
    describe();
    $('#banner').hidden = true;
    refreshCollections().catch(() => {});
    route();
  });
  $('#key-clear').addEventListener('click', () => { input.value = ''; apiKey.set(''); describe(); });
  onApiError((e) => {
    if (e.status === 401 || e.status === 403) {
      const banner = $('#banner');
      banner.textContent = e.status === 401
        ? 'The server needs an API key: enter it above and choose “Save key”.'
        : 'This API key may not do that.';
      banner.hidden = false;
    }
  });
}

Object.values(panels).forEach((p) => p.init());
initKey();
window.addEventListener('hashchange', route);
refreshCollections().catch(() => {}).finally(route);
