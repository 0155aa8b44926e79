// A source's page: who it is, and every claim it is linked to with its stance.
import { ApiError, get } from '../api.js';
import { fill, h } from '../dom.js';
import { credibilities, kinds, reliabilities, stances, when } from '../words.js';
import { claimItem, pagedList } from './parts.js';

export async function showSource({ main, params, signal }) {
  const id = params.get('source');
  let source;
  try {
    source = await get(`/sources/${encodeURIComponent(id)}`, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      fill(main, h('h1', { tabindex: '-1' }, 'No such source'), h('a', { href: '/?view=sources' }, 'All sources'));
      return;
    }
    throw error;
  }
  document.title = `${source.name} · Claims desk`;
  const claims = await pagedList({
    path: `/sources/${source.id}/claims`, parameters: { limit: 50 }, signal,
    render: (link) => claimItem(link.claim, [
      h('span', { class: `stance-tag stance-${link.stance}` }, stances[link.stance] ?? link.stance),
      h('span', {}, `credibility ${credibilities[link.credibility] ?? link.credibility}`),
    ]),
    empty: 'No claim is linked to this source yet.', more: 'Load more claims', label: 'Claims linked to this source',
  });
  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/?view=sources' }, '← All sources')),
    h('h1', { tabindex: '-1', dir: 'auto' }, source.name),
    h('p', { class: 'meta' },
      h('span', {}, kinds[source.kind] ?? source.kind),
      h('span', {}, `reliability ${reliabilities[source.reliability] ?? source.reliability}`),
      h('span', {}, `logged ${when(source.createdAt)}${source.createdBy ? ` by ${source.createdBy}` : ''}`)),
    source.description ? h('p', { dir: 'auto' }, source.description) : null,
    source.url ? h('p', {}, h('a', { href: source.url, rel: 'noopener noreferrer', target: '_blank' }, source.url)) : null,
    h('section', { class: 'card', 'aria-labelledby': 'source-claims' }, h('h2', { id: 'source-claims' }, 'Claims it is linked to'), claims));
}
