// Pieces more than one view shows: a claim's status badge, a claim in a list, a "load more"
// button over the API's cursors.
import { get, query } from '../api.js';
import { fill, h, whileBusy } from '../dom.js';
import { languages, onDay, statuses, when } from '../words.js';

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, dataset: { status } }, statuses[status] ?? status);
}

/** A claim as one line of a list; lang= lets the browser and screen readers read the statement in its language. */
export function claimItem(claim, extra) {
  return h('li', { class: 'claim-item', dataset: { claimId: claim.id } },
    statusBadge(claim.status),
    h('a', { href: `/?claim=${claim.id}`, lang: claim.language, dir: 'auto', class: 'statement' }, claim.statement),
    h('div', { class: 'meta' },
      extra,
      h('span', {}, languages[claim.language] ?? claim.language),
      claim.tags.length ? h('span', {}, claim.tags.map((tag) => `#${tag}`).join(' ')) : null,
      claim.firstReportedOn ? h('span', {}, `first reported ${onDay(claim.firstReportedOn)}`) : null,
      h('span', {}, `changed ${when(claim.updatedAt)}`)));
}

/**
 * Shows a list page by page: the first page now, the next ones when the user asks, following
 * nextCursor. Returns the list element.
 */
export async function pagedList({ path, parameters, signal, render, empty, more, label }) {
  const list = h('ul', { class: 'items', 'aria-label': label });
  const footer = h('div', { class: 'more' });
  const holder = h('div', {}, list, footer);
  const load = async (cursor) => {
    const page = await get(`${path}${query({ ...parameters, cursor })}`, { signal });
    const added = page.items.map(render);
    list.append(...added);
    footer.replaceChildren();
    if (page.nextCursor) {
      const button = h('button', { type: 'button', class: 'secondary', onclick: () => whileBusy(button, async () => {
        try {
          const next = await load(page.nextCursor);
          // The first new line takes the focus the button had, so the keyboard goes on from there.
          next[0]?.querySelector('a')?.focus();
        } catch (error) {
          if (!signal.aborted) fill(problem, `More could not be loaded: ${error.explanation ?? error}`);
        }
      }) }, more);
      footer.append(button);
    } else if (list.children.length === 0) {
      footer.append(h('p', { class: 'empty' }, empty));
    }
    return added;
  };
  const problem = h('p', { class: 'error', role: 'alert' });
  holder.append(problem);
  await load(undefined);
  return holder;
}
