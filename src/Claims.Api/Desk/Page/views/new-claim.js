// Logging a claim. While the statement is typed, near-duplicates already logged are shown with
// their status (GET /claims/similar, the look-up POST /claims's duplicate check uses), so that
// the journalist opens the existing claim instead of logging it twice.
import { call, get, newKey, query } from '../api.js';
import { debounce, field, fill, h, whileBusy } from '../dom.js';
import { languages, may } from '../words.js';
import { statusBadge } from './parts.js';

export async function showNewClaim({ main, session, navigate, notify, signal }) {
  document.title = 'Log a claim · Claims desk';
  if (!may(session, 'reporter')) {
    fill(main, h('h1', { tabindex: '-1' }, 'Log a claim'), h('p', {}, `Your key is a ${session.role}: logging claims needs a reporter's key or higher.`));
    return;
  }

  const statement = h('textarea', { name: 'statement', rows: 3, required: true, maxlength: 2000, dir: 'auto' });
  const summary = h('textarea', { name: 'summary', rows: 3, maxlength: 4000, dir: 'auto' });
  const language = h('input', { type: 'text', name: 'language', value: 'en', maxlength: 35, list: 'new-languages' });
  const tags = h('input', { type: 'text', name: 'tags' });
  const reported = h('input', { type: 'date', name: 'firstReportedOn' });
  const similar = h('section', { class: 'similar', 'aria-live': 'polite', 'aria-label': 'Possible duplicates' });
  const error = h('div', { class: 'error', role: 'alert' });
  let key = newKey();

  const lookUp = debounce(async () => {
    const text = statement.value.trim();
    if (text.length < 12) {
      fill(similar);
      return;
    }
    let found;
    try {
      found = (await get(`/claims/similar${query({ text, limit: 5, minScore: 0.3 })}`, { signal })).items;
    } catch {
      return;
    }
    if (statement.value.trim() !== text) return;
    if (found.length === 0) {
      fill(similar, h('p', { class: 'info' }, 'No similar claim is logged yet.'));
      return;
    }
    fill(similar,
      h('h2', {}, found.length === 1 ? 'A similar claim is already logged' : `${found.length} similar claims are already logged`),
      h('p', {}, 'If one of them says the same, open it and add your evidence there instead of logging it twice.'),
      h('ul', { class: 'items' }, found.map(({ score, claim }) => h('li', { class: 'claim-item' },
        statusBadge(claim.status),
        h('a', { href: `/?claim=${claim.id}`, lang: claim.language, dir: 'auto', class: 'statement' }, claim.statement),
        h('span', { class: 'meta' }, `${Math.round(score * 100)}% alike`)))));
  }, 400);
  statement.addEventListener('input', lookUp);

  const submit = h('button', { type: 'submit' }, 'Log claim');
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    whileBusy(submit, () => save());
  } },
  field('Statement', statement, 'The claim as one checkable sentence, in its own language.'),
  similar,
  field('Summary', summary, 'Context for colleagues.'),
  field('Language', language, 'A language tag: en, uk, ru, ko…'),
  h('datalist', { id: 'new-languages' }, Object.entries(languages).map(([code, words]) => h('option', { value: code }, words))),
  field('Tags', tags, 'Separated by commas, such as north-korea, russia.'),
  field('First reported on', reported),
  submit,
  error);

  async function save() {
    fill(error);
    try {
      const { body } = await call('POST', '/claims', {
        body: {
          statement: statement.value.trim(), summary: summary.value.trim() || null, language: language.value.trim() || null,
          tags: tags.value.split(/[,;]/).map((tag) => tag.trim().toLowerCase()).filter(Boolean),
          firstReportedOn: reported.value || null,
        },
        idempotencyKey: key,
      });
      notify('The claim is logged.');
      navigate(`/?claim=${body.id}`);
    } catch (failure) {
      if (failure.status) key = newKey();
      fill(error, failure.explanation ?? String(failure));
    }
  }

  fill(main, h('h1', { tabindex: '-1' }, 'Log a claim'), form);
  statement.focus();
}
