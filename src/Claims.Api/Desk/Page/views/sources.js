// The sources: found by name (typos allowed), filtered by kind, and a form for a new one.
import { call, newKey } from '../api.js';
import { field, fill, h, select, whileBusy } from '../dom.js';
import { choices, kinds, may, reliabilities } from '../words.js';
import { pagedList } from './parts.js';

export async function showSources({ main, session, params, navigate, signal }) {
  document.title = 'Sources · Claims desk';
  const asked = { q: params.get('q') ?? '', kind: params.get('kind') ?? '' };
  const q = h('input', { type: 'search', name: 'q', value: asked.q, maxlength: 200 });
  const kind = select({ name: 'kind' }, [['', 'Any kind'], ...choices(kinds)], asked.kind);
  const form = h('form', { role: 'search', class: 'card filters', onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams({ view: 'sources' });
    if (q.value.trim()) next.set('q', q.value.trim());
    if (kind.value) next.set('kind', kind.value);
    navigate(`/?${next}`);
  } }, h('div', { class: 'search-row' }, field('Search sources', q), field('Kind', kind), h('button', { type: 'submit' }, 'Search')));

  const list = await pagedList({
    path: '/sources', parameters: { q: asked.q, kind: asked.kind, limit: 50 }, signal,
    render: (source) => h('li', { class: 'source-item' },
      h('a', { href: `/?source=${source.id}` }, source.name),
      h('span', { class: 'meta' }, ` ${kinds[source.kind] ?? source.kind} · reliability ${reliabilities[source.reliability] ?? source.reliability}`)),
    empty: 'No source matches.', more: 'Load more sources', label: 'Sources found',
  });
  fill(main, h('h1', { tabindex: '-1' }, 'Sources'), form, list, may(session, 'reporter') ? newSourceForm(navigate) : null);
}

function newSourceForm(navigate) {
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 200 });
  const kind = select({ name: 'kind' }, choices(kinds), 'outlet');
  const reliability = select({ name: 'reliability' }, choices(reliabilities), 'F');
  const url = h('input', { type: 'url', name: 'url', placeholder: 'https://', maxlength: 2048 });
  const description = h('textarea', { name: 'description', rows: 2, maxlength: 2000 });
  const error = h('div', { class: 'error', role: 'alert' });
  let key = newKey();
  const submit = h('button', { type: 'submit' }, 'Create source');
  return h('form', { class: 'card', 'aria-labelledby': 'new-source', onsubmit: (event) => {
    event.preventDefault();
    whileBusy(submit, () => save());
  } },
  h('h2', { id: 'new-source' }, 'New source'),
  field('Name', name), field('Kind', kind), field('Reliability', reliability), field('Home page', url), field('Description', description),
  submit, error);

  async function save() {
    fill(error);
    try {
      const { body } = await call('POST', '/sources', {
        body: { name: name.value.trim(), kind: kind.value, reliability: reliability.value, url: url.value.trim() || null, description: description.value.trim() || null },
        idempotencyKey: key,
      });
      navigate(`/?source=${body.id}`);
    } catch (failure) {
      if (failure.status) key = newKey();
      fill(error, failure.explanation ?? String(failure));
    }
  }
}
