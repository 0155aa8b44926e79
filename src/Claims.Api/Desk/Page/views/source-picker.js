// A field that finds a source by name as the user types (GET /sources?q=, typos allowed), and
// can create a new one inline. It follows the ARIA combobox pattern: arrow keys move through
// the options, Enter chooses, Escape closes.
import { call, get, newKey, query } from '../api.js';
import { debounce, field, fill, h, select, uniqueId, whileBusy } from '../dom.js';
import { choices, kinds, reliabilities } from '../words.js';

/**
 * label: the field's words; onChoose(source or null); canCreate: offer "Create a new source".
 * Returns { element, chosen(), clear() }.
 */
export function sourcePicker({ label, onChoose = () => {}, canCreate = false, initial = null, signal }) {
  let chosen = initial;
  let options = [];
  let active = -1;
  const listId = uniqueId('sources');
  const input = h('input', {
    type: 'text', role: 'combobox', autocomplete: 'off', 'aria-autocomplete': 'list',
    'aria-expanded': 'false', 'aria-controls': listId, value: initial?.name ?? '',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'options', hidden: true, 'aria-label': `${label}: matches` });
  const creator = h('div', { class: 'creator' });
  // Says how many matched, for those who do not see the list appear.
  const count = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const wrapper = h('div', { class: 'picker' }, field(label, input, 'Type part of a name, then choose.'), list, count, creator);

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };

  const choose = (option) => {
    close();
    if (option.create) {
      showCreator(option.name);
      return;
    }
    chosen = option.source;
    input.value = chosen.name;
    fill(creator);
    onChoose(chosen);
  };

  const highlight = (index) => {
    active = index;
    [...list.children].forEach((item, i) => item.setAttribute('aria-selected', String(i === index)));
    if (index >= 0) input.setAttribute('aria-activedescendant', list.children[index].id);
  };

  const searchNow = async () => {
    const text = input.value.trim();
    if (!text) {
      close();
      return;
    }
    let found;
    let failure = null;
    try {
      found = (await get(`/sources${query({ q: text, limit: 8 })}`, { signal })).items;
    } catch (error) {
      failure = error;
      found = [];
    }
    if (input.value.trim() !== text) return;
    options = found.map((source) => ({ source, words: `${source.name} (${kinds[source.kind]}, ${source.reliability})` }));
    // A failed search is not "no match": offering to create the source then would invite duplicates.
    if (canCreate && !failure) options.push({ create: true, name: text, words: `Create a new source “${text}”` });
    const message = failure ? `The search for sources failed: ${failure.explanation ?? failure}` : found.length === 0 ? 'No source matches.' : null;
    fill(list,
      options.map((option, index) => h('li', {
        id: `${listId}-${index}`, role: 'option', 'aria-selected': 'false', class: option.create ? 'create' : null,
        onmousedown: (event) => event.preventDefault(),
        onclick: () => choose(option),
      }, option.words)),
      message ? h('li', { role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, message) : null);
    count.textContent = message ?? `${found.length} ${found.length === 1 ? 'source matches' : 'sources match'}.`;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    active = -1;
  };
  const search = debounce(searchNow, 250);

  input.addEventListener('input', () => {
    if (chosen) {
      chosen = null;
      onChoose(null);
    }
    search();
  });
  input.addEventListener('keydown', (event) => {
    if (list.hidden && event.key === 'ArrowDown') {
      event.preventDefault();
      searchNow();
      return;
    }
    // Enter in an open list chooses, or does nothing: it never submits the form around it.
    if (!list.hidden && event.key === 'Enter' && active < 0) {
      event.preventDefault();
      return;
    }
    if (list.hidden || options.length === 0) return;
    if (event.key === 'ArrowDown') highlight(Math.min(active + 1, options.length - 1));
    else if (event.key === 'ArrowUp') highlight(Math.max(active - 1, 0));
    else if (event.key === 'Enter' && active >= 0) choose(options[active]);
    else if (event.key === 'Escape') close();
    else return;
    event.preventDefault();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));

  function showCreator(name) {
    const nameInput = h('input', { type: 'text', name: 'name', value: name, required: true, maxlength: 200 });
    const kind = select({ name: 'kind' }, choices(kinds), 'outlet');
    const reliability = select({ name: 'reliability' }, choices(reliabilities), 'F');
    const url = h('input', { type: 'url', name: 'url', placeholder: 'https://' });
    const error = h('p', { class: 'error', role: 'alert' });
    // One key for this form: a second click, or a retry after a lost answer, creates one source.
    let key = newKey();
    const create = h('button', { type: 'button', onclick: () => whileBusy(create, async () => {
      error.textContent = '';
      try {
        const { body } = await call('POST', '/sources', {
          body: { name: nameInput.value, kind: kind.value, reliability: reliability.value, url: url.value || null },
          idempotencyKey: key,
        });
        choose({ source: body });
        input.focus();
      } catch (failure) {
        if (failure.status) key = newKey();
        error.textContent = failure.explanation ?? String(failure);
      }
    }) }, 'Create source');
    fill(creator, h('fieldset', { class: 'inline-form' },
      h('legend', {}, 'New source'),
      field('Name', nameInput),
      field('Kind', kind),
      field('Reliability', reliability),
      field('Home page', url),
      h('div', { class: 'actions' }, create,
        h('button', { type: 'button', class: 'secondary', onclick: () => {
          fill(creator);
          input.focus();
        } }, 'Cancel')),
      error));
    nameInput.focus();
  }

  return {
    element: wrapper,
    focus: () => input.focus(),
    chosen: () => chosen,
    clear: () => {
      chosen = null;
      input.value = '';
      fill(creator);
    },
  };
}
