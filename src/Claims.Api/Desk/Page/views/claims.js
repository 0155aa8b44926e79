// Finding claims: the search box and filters live in the address (/?q=desertion&status=confirmed),
// so a search is a link to share; results come newest first or by relevance, a page at a time.
import { ApiError, get } from '../api.js';
import { field, fill, h, select } from '../dom.js';
import { listen } from '../live.js';
import { choices, languages, statuses } from '../words.js';
import { claimItem, pagedList, statusBadge } from './parts.js';
import { sourcePicker } from './source-picker.js';

const filters = ['q', 'status', 'tag', 'language', 'sourceId', 'reportedFrom', 'reportedTo', 'sort'];

export async function showClaims({ main, params, navigate, notify, signal, onLeave }) {
  const asked = Object.fromEntries(filters.map((name) => [name, params.get(name) ?? '']));
  const searching = asked.q !== '';
  document.title = searching ? `“${asked.q}” · Claims desk` : 'Claims · Claims desk';

  const q = h('input', { type: 'search', name: 'q', value: asked.q, maxlength: 500 });
  const status = select({ name: 'status' }, [['', 'Any status'], ...choices(statuses)], asked.status);
  const tag = h('input', { type: 'text', name: 'tag', value: asked.tag, maxlength: 50 });
  // Any BCP 47 tag the API takes; the newsroom's usual ones are suggested.
  const language = h('input', { type: 'text', name: 'language', value: asked.language, maxlength: 35, list: 'filter-languages' });
  const from = h('input', { type: 'date', name: 'reportedFrom', value: asked.reportedFrom });
  const to = h('input', { type: 'date', name: 'reportedTo', value: asked.reportedTo });
  // The API's default: best match first with words, newest first without.
  const sort = select({ name: 'sort' }, [
    ['', 'Best match first (recently changed first without search words)'],
    ['-updatedAt', 'Recently changed first'],
    ['-createdAt', 'Newest logged first'],
    ['-firstReportedOn', 'Most recently reported first'],
  ], asked.sort);
  let source = null;
  if (asked.sourceId) {
    source = await get(`/sources/${encodeURIComponent(asked.sourceId)}`, { signal }).catch(() => null);
  }
  const picker = sourcePicker({ label: 'Source', initial: source, onChoose: (chosen) => { source = chosen; }, signal });

  const form = h('form', { role: 'search', class: 'card filters', onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const words = q.value.trim();
    const values = {
      q: words, status: status.value, tag: tag.value.trim().toLowerCase(),
      language: language.value.trim(), sourceId: source?.id ?? '', reportedFrom: from.value, reportedTo: to.value,
      sort: sort.value,
    };
    for (const [name, value] of Object.entries(values)) if (value) next.set(name, value);
    navigate(next.size ? `/?${next}` : '/');
  } },
  h('div', { class: 'search-row' }, field('Search', q), h('button', { type: 'submit' }, 'Search')),
  h('details', { class: 'more-filters', open: Boolean(asked.status || asked.tag || asked.language || asked.sourceId || asked.reportedFrom || asked.reportedTo || asked.sort) },
    h('summary', {}, 'Filters'),
    h('div', { class: 'grid' },
      field('Status', status), field('Tag', tag), field('Language', language, 'A language tag: en, uk, ru, ko…'),
      h('datalist', { id: 'filter-languages' }, Object.entries(languages).map(([code, words]) => h('option', { value: code }, words))),
      picker.element, field('Reported from', from), field('Reported to', to), field('Order', sort)),
    h('a', { href: '/' }, 'Clear search and filters')));

  const parameters = { ...asked, sort: asked.sort || undefined, limit: 25 };
  const heading = h('h1', { tabindex: '-1' }, searching ? `Claims matching “${asked.q}”` : 'Claims');
  const banner = h('div', { class: 'banner', hidden: true });
  let results = null;

  // Others' changes: a listed claim's badge and statement follow them; new claims are offered.
  // Subscribed before the list is read, so that nothing committed meanwhile is missed.
  const live = listen({ type: ['claim.created', 'claim.updated', 'claim.status_changed', 'claim.deleted'] }, onLiveEvent);
  onLeave(live.stop);
  await live.opened;
  try {
    results = await pagedList({
      path: '/claims', parameters, signal, render: (claim) => claimItem(claim),
      empty: 'No claim matches this search.', more: 'Load more claims', label: 'Claims found',
    });
  } catch (error) {
    // A filter the API refuses (a tag with a space, dates the wrong way round) is said under the
    // form, which stays for the user to mend.
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    fill(main, heading, form, h('p', { class: 'error', role: 'alert' }, `The search could not run: ${error.explanation}`));
    return;
  }
  fill(main, heading, form, banner, results);

  function onLiveEvent(type, event) {
    if (!results) return; // the first read, still running, includes it
    const item = results.querySelector(`[data-claim-id="${event.subject}"]`);
    if (type === 'claim.created') {
      fill(banner, 'New claims were logged since this list was loaded. ',
        h('button', { type: 'button', class: 'link', onclick: () => navigate(location.href) }, 'Show them'));
      banner.hidden = false;
      notify('New claims were logged.');
    } else if (item && type === 'claim.status_changed') {
      item.querySelector('.badge').replaceWith(statusBadge(event.data.to));
      notify(`A claim in this list is now ${statuses[event.data.to]}.`);
    } else if (item && type === 'claim.updated') {
      item.querySelector('.statement').textContent = event.data.statement;
    } else if (item && type === 'claim.deleted') {
      item.classList.add('deleted');
      item.querySelector('.statement').append(' (deleted)');
    }
  }
}
