// The desk's entry point: the session, the address bar as the page's state, and one view at a
// time. Addresses are all under / with a query string (/?claim=<id>, /?q=desertion), so that a
// search or a claim can be shared as a link and the API's own paths stay the API's.
import { ApiError, currentSession, signIn, signOut } from './api.js';
import { fill, field, h } from './dom.js';
import { may } from './words.js';
import { showClaims } from './views/claims.js';
import { showClaim } from './views/claim.js';
import { showNewClaim } from './views/new-claim.js';
import { showSources } from './views/sources.js';
import { showSource } from './views/source.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const notice = document.getElementById('notice');

let session = null;
let current = null;

/** Says something to the user and to screen readers, in the page's live region. */
let noticeTimer;
export function notify(text) {
  notice.textContent = '';
  clearTimeout(noticeTimer);
  // Set on the next frame, so that the same words twice are announced twice; cleared after a
  // while so that the message does not cover the page.
  requestAnimationFrame(() => { notice.textContent = text; });
  noticeTimer = setTimeout(() => { notice.textContent = ''; }, 8000);
}

export function navigate(url) {
  history.pushState(null, '', url);
  render({ focus: true });
}

function viewFor(params) {
  if (params.get('claim')) return showClaim;
  if (params.get('source')) return showSource;
  if (params.get('view') === 'new') return showNewClaim;
  if (params.get('view') === 'sources') return showSources;
  return showClaims;
}

async function render({ focus = false } = {}) {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const leaving = [];
  controller.signal.addEventListener('abort', () => leaving.forEach((stop) => stop()));

  if (!session) {
    showSignIn();
    return;
  }

  const params = new URLSearchParams(location.search);
  const context = {
    main, session, params, navigate, notify,
    signal: controller.signal,
    onLeave: (stop) => leaving.push(stop),
  };
  try {
    await viewFor(params)(context);
  } catch (error) {
    if (controller.signal.aborted) return;
    if (error instanceof ApiError && error.status === 401) {
      session = null;
      showChrome();
      showSignIn('Your session has ended. Sign in again.');
      return;
    }
    fill(main, h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', { role: 'alert' }, error instanceof ApiError ? error.explanation : String(error)),
      h('p', {}, h('a', { href: '/' }, 'Back to all claims')));
  }
  if (focus && !controller.signal.aborted) main.querySelector('h1')?.focus({ preventScroll: false });
  markCurrent(params);
}

// The navigation says which of its pages is open, for screen readers as for eyes.
function markCurrent(params) {
  const here = params.get('view') === 'new' ? '/?view=new'
    : params.get('view') === 'sources' || params.get('source') ? '/?view=sources' : '/';
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function showChrome() {
  nav.hidden = !session;
  document.getElementById('nav-new').hidden = !may(session, 'reporter');
  if (!session) {
    fill(who);
    return;
  }
  fill(who,
    h('span', {}, `${session.name} (${session.role})`),
    h('button', { type: 'button', class: 'link', onclick: onSignOut }, 'Sign out'));
}

async function onSignOut() {
  try {
    await signOut();
  } catch (error) {
    // On a shared computer a sign-out that did not happen must not look as if it did.
    notify(`You are still signed in: ${error.explanation ?? error}`);
    return;
  }
  session = null;
  current?.abort();
  showChrome();
  showSignIn('You are signed out.');
}

function showSignIn(message) {
  document.title = 'Sign in · Claims desk';
  const key = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card narrow', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      session = await signIn(key.value.trim());
      key.value = '';
      showChrome();
      notify(`Signed in as ${session.name}.`);
      await render({ focus: true });
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401
        ? 'That key is unknown or revoked. Check it and try again.'
        : failure instanceof ApiError ? failure.explanation : String(failure);
      key.focus();
    }
  } },
  h('h1', { tabindex: '-1' }, 'Sign in to the desk'),
  message ? h('p', { class: 'info' }, message) : null,
  h('p', {}, 'Paste your API key once. The desk does not keep it: the server gives this browser a session instead, which ends when you sign out.'),
  field('API key', key),
  h('button', { type: 'submit' }, 'Sign in'),
  error);
  fill(main, form);
  key.focus();
}

window.addEventListener('popstate', () => render({ focus: true }));

// Links within the desk change the view without reloading the page.
document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href]');
  if (!link || link.target || link.origin !== location.origin || link.pathname !== '/') return;
  // A link within the page (the skip link) is the browser's to follow.
  if (link.hash && link.search === location.search) return;
  if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.href);
});

(async () => {
  try {
    session = await currentSession();
  } catch (error) {
    fill(main, h('h1', {}, 'The desk cannot start'), h('p', { role: 'alert' }, error.explanation ?? String(error)));
    return;
  }
  showChrome();
  await render();
})();
