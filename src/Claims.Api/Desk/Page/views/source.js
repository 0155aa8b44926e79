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
  const record = await get(`/sources/${source.id}/record`, { signal });
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
    trackRecord(record),
    h('section', { class: 'card', 'aria-labelledby': 'source-claims' }, h('h2', { id: 'source-claims' }, 'Claims it is linked to'), claims));
}

// Beside the grade a person set, never instead of it: what became of the claims the source took a side on.
function trackRecord(record) {
  const ended = (counts) => `${counts.confirmed} confirmed, ${counts.false} false, ${counts.disputed} disputed, ${counts.inconclusive} inconclusive, ${counts.open} open`;
  return h('section', { class: 'card', 'aria-labelledby': 'source-record' },
    h('h2', { id: 'source-record' }, 'Track record'),
    h('p', {}, `Claims it asserted or supported: ${ended(record.backed)}.`),
    h('p', {}, `Claims it refuted: ${ended(record.refuted)}.`),
    h('p', {}, `Suggested reliability from this record: ${reliabilities[record.suggestedReliability] ?? record.suggestedReliability}`
      + (record.lowerBound === null ? '' : ` (${record.borneOut} of ${record.borneOut + record.contradicted} judged claims borne out)`)
      + `; the grade set by the desk stays ${reliabilities[record.reliability] ?? record.reliability}.`),
    h('details', {}, h('summary', {}, 'How the suggestion is made'), h('p', {}, record.rule)));
}
