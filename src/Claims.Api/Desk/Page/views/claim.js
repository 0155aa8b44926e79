// A claim's page: what it says, where it stands, the evidence by stance, its history, and the
// actions the session's role allows. Writes carry the ETag of the version the user started
// from in If-Match, so a change someone else made first is reported (412) in words, with what
// changed, instead of overwritten.
import { ApiError, call, get, newKey } from '../api.js';
import { field, fill, h, select, whileBusy } from '../dom.js';
import { listen } from '../live.js';
import { choices, credibilities, kinds, languages, listed, may, onDay, reliabilities, stances, statuses, when } from '../words.js';
import { statusBadge } from './parts.js';
import { sourcePicker } from './source-picker.js';

// The same for every claim: read once, and not tied to one page's life (a page left while it
// loads would otherwise cancel it for the next).
let rulesOnce = null;
// unable_to_verify in the stances' vocabulary is unableToVerify in the counts' JSON.
const camel = (name) => name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
const statusRules = () => (rulesOnce ??= get('/claims/status-rules').then((answer) => answer.rules).catch((error) => {
  rulesOnce = null;
  throw error;
}));

export async function showClaim({ main, session, params, notify, signal, onLeave }) {
  const id = params.get('claim');
  const path = `/claims/${encodeURIComponent(id)}`;
  const state = { claim: null, etag: null, history: [], editing: false };
  let statusForm = null;
  let loads = 0;
  let rebaseFrom = null;

  const header = h('div', { class: 'claim-header' });
  const statusSection = h('section', { class: 'card', 'aria-labelledby': 'status-heading' });
  const evidenceList = h('div', { class: 'evidence' });
  const evidenceHeading = h('h2', { id: 'evidence-heading', tabindex: '-1' }, 'Evidence');
  const historyList = h('ol', { class: 'timeline' });
  const banner = h('div', { class: 'banner', hidden: true });
  const editArea = h('div', {});

  // Subscribed before the first read, so that nothing committed meanwhile is missed.
  const live = listen({ claimId: id }, onLiveEvent);
  onLeave(live.stop);
  await live.opened;
  const [rules, found] = await Promise.all([statusRules(), load()]);
  if (!found) return;

  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, '← All claims')),
    banner, header, editArea,
    statusSection,
    h('section', { class: 'card', 'aria-labelledby': 'evidence-heading' },
      evidenceHeading, evidenceList,
      may(session, 'reporter') ? evidenceForm() : null),
    h('section', { class: 'card', 'aria-labelledby': 'history-heading' },
      h('h2', { id: 'history-heading' }, 'Status history'), historyList));
  renderAll();

  async function onLiveEvent(type, event) {
    if (!state.claim) return; // the first read, still running, includes it
    if (type === 'claim.deleted') {
      fill(banner, 'Someone deleted this claim. ', h('a', { href: '/' }, 'Back to all claims'));
      banner.hidden = false;
      return;
    }
    const before = state.claim;
    if (!await load().catch(() => false)) return;
    renderAll();
    // The user's own writes come back on the stream too; only others' are worth saying.
    if (event.actor === session.name) return;
    const who = event.actor ?? 'Someone';
    const changes = differences(before, state.claim);
    fill(banner, h('p', {}, `${who} changed this claim just now.`), changes.length ? h('ul', { class: 'changes' }, changes.map((words) => h('li', {}, words))) : null);
    banner.hidden = false;
    notify(`${who} changed this claim just now.`);
  }

  /** Reads the claim and its history; false when it does not exist (the page says so) or a newer read overtook this one. */
  async function load() {
    const mine = ++loads;
    let claim;
    let history;
    try {
      [claim, history] = await Promise.all([
        call('GET', path, { signal }),
        get(`${path}/history?limit=200`, { signal }),
      ]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && !signal.aborted) {
        state.claim = null;
        fill(main, h('h1', { tabindex: '-1' }, 'No such claim'), h('p', {}, 'It may have been deleted. '), h('a', { href: '/' }, 'Back to all claims'));
        return false;
      }
      throw error;
    }
    if (mine !== loads || signal.aborted) return false;
    state.claim = claim.body;
    state.etag = claim.etag;
    state.history = history.items;
    if (rebaseFrom !== null && mine >= rebaseFrom) {
      rebaseFrom = null;
      statusForm?.rebase();
    }
    return true;
  }

  /** After the user's own write: the page shows the result, or says why it could not. */
  async function refresh() {
    try {
      // The user's own write moved the version on: their open status form starts from the
      // version this read (or a newer one, such as the stream's) brings.
      rebaseFrom = loads + 1;
      if (await load()) renderAll();
    } catch (error) {
      if (signal.aborted) return;
      fill(banner, `Saved, but the claim could not be read again: ${error.explanation ?? error}. Reload the page.`);
      banner.hidden = false;
    }
  }

  function renderAll() {
    if (signal.aborted) return;
    const claim = state.claim;
    document.title = `${claim.statement.slice(0, 60)} · Claims desk`;
    fill(header,
      h('h1', { tabindex: '-1', lang: claim.language, dir: 'auto' }, claim.statement),
      h('p', { class: 'status-line' }, statusBadge(claim.status),
        claim.statusNote ? h('span', { class: 'status-note' }, claim.statusNote) : null),
      claim.canonicalClaimId ? duplicateNotice(claim.canonicalClaimId) : null,
      claim.summary ? h('p', { class: 'summary', dir: 'auto' }, claim.summary) : null,
      h('p', { class: 'meta' },
        h('span', {}, languages[claim.language] ?? claim.language),
        claim.tags.length ? h('span', {}, claim.tags.map((tag) => `#${tag}`).join(' ')) : null,
        claim.firstReportedOn ? h('span', {}, `first reported ${onDay(claim.firstReportedOn)}`) : null,
        h('span', {}, `logged ${when(claim.createdAt)}${claim.createdBy ? ` by ${claim.createdBy}` : ''}`)),
      may(session, 'reporter') && !state.editing
        ? h('button', { type: 'button', class: 'secondary', onclick: () => openEditor() }, 'Edit claim') : null);
    renderStatus();
    renderEvidence();
    renderHistory();
  }

  function duplicateNotice(canonicalId) {
    return h('p', { class: 'banner', role: 'note' },
      'Recorded as a duplicate of another claim, whose status counts for both: ',
      h('a', { href: `/?claim=${encodeURIComponent(canonicalId)}` }, 'open the canonical claim'), '.');
  }

  const counts = () => Object.fromEntries(Object.keys(stances).map((stance) =>
    [stance, state.claim.evidence.filter((item) => item.stance === stance).length]));

  function renderEvidence() {
    const groups = Object.entries(stances).map(([stance, words]) => {
      const items = state.claim.evidence.filter((item) => item.stance === stance);
      if (items.length === 0) return null;
      // Items that relay one origin count once towards the verdict rules: say so where it differs.
      const origins = state.claim.independentOrigins?.[camel(stance)] ?? items.length;
      const counted = origins === items.length ? '' : ` · ${origins} independent ${origins === 1 ? 'origin' : 'origins'}`;
      return h('section', { class: `stance stance-${stance}`, 'aria-label': words },
        h('h3', {}, `${words} (${items.length}${counted})`),
        h('ul', { class: 'items' }, items.map(evidenceItem)));
    }).filter(Boolean);
    fill(evidenceList, groups.length ? groups : h('p', { class: 'empty' }, 'No evidence yet. Link the sources that made, supported, refuted or could not verify this claim.'));
  }

  function evidenceItem(item) {
    const problem = h('p', { class: 'error', role: 'alert' });
    const actions = h('div', { class: 'actions' });
    const offerRemoval = () => fill(actions, h('button', { type: 'button', class: 'secondary', onclick: confirmRemoval }, 'Remove'));
    function confirmRemoval() {
      const yes = h('button', { type: 'button', class: 'danger', onclick: () => whileBusy(yes, async () => {
        try {
          await call('DELETE', `${path}/evidence/${item.id}`);
        } catch (error) {
          problem.textContent = error.explanation ?? String(error);
          offerRemoval();
          actions.querySelector('button')?.focus();
          return;
        }
        notify(`Removed the evidence from ${item.source.name}.`);
        await refresh();
        evidenceHeading.focus();
      }) }, 'Yes, remove');
      fill(actions, h('span', {}, 'Remove this evidence? '), yes,
        h('button', { type: 'button', class: 'secondary', onclick: () => {
          offerRemoval();
          actions.querySelector('button')?.focus();
        } }, 'Keep'));
      yes.focus();
    }
    if (may(session, 'editor')) offerRemoval();
    return h('li', { class: 'evidence-item', dataset: { evidenceId: item.id } },
      h('p', { class: 'source-line' },
        h('a', { href: `/?source=${item.source.id}` }, item.source.name),
        h('span', { class: 'meta' }, ` ${kinds[item.source.kind] ?? item.source.kind} · reliability ${reliabilities[item.source.reliability] ?? item.source.reliability}`)),
      item.via?.length ? h('p', { class: 'meta relay' }, 'relaying ', ...item.via.flatMap((source, index) => [
        index ? ' → ' : null, h('a', { href: `/?source=${source.id}` }, source.name)]).filter(Boolean)) : null,
      item.quote ? h('blockquote', { dir: 'auto' }, item.quote) : null,
      h('p', { class: 'meta' },
        h('span', {}, `credibility ${credibilities[item.credibility] ?? item.credibility}`),
        item.publishedAt ? h('span', {}, `published ${when(item.publishedAt)}`) : null,
        item.url ? h('a', { href: item.url, rel: 'noopener noreferrer', target: '_blank' }, 'Read it at the source') : null),
      item.note ? h('p', { class: 'note' }, item.note) : null,
      actions, problem);
  }

  function renderHistory() {
    fill(historyList, state.history.map((change) => h('li', {},
      h('p', {}, change.fromStatus === null
        ? ['Logged as ', statusBadge(change.toStatus)]
        : [statusBadge(change.fromStatus), ' → ', statusBadge(change.toStatus)]),
      h('p', { class: 'meta' }, h('time', { datetime: change.changedAt }, when(change.changedAt)),
        change.changedBy ? ` by ${change.changedBy}` : ''),
      change.note ? h('blockquote', { dir: 'auto' }, change.note) : null)));
  }

  // The status form: the rule of the chosen status, read from the API, is shown in words, and
  // checked against the evidence the claim has, before anything is sent.
  function renderStatus() {
    const now = h('p', {}, 'Now ', statusBadge(state.claim.status), state.claim.statusNote ? ` ${state.claim.statusNote}` : '');
    // A duplicate's status is its canonical's: the API refuses to move it, so the page offers no form.
    if (!may(session, 'editor') || state.claim.canonicalClaimId) {
      fill(statusSection, h('h2', { id: 'status-heading' }, 'Status'), now);
      return;
    }
    // Kept while the claim keeps its status, so that a note being written survives others'
    // edits; built again when the status moved, since the choices depend on it (the note
    // typed so far goes along).
    if (statusForm?.from !== state.claim.status) statusForm = statusChangeForm(statusForm?.note() ?? '');
    statusForm.check();
    fill(statusSection, h('h2', { id: 'status-heading', tabindex: '-1' }, 'Change status'), now, statusForm.form);
  }

  function statusChangeForm(noteSoFar) {
    const from = state.claim.status;
    const others = choices(statuses).filter(([value]) => value !== from);
    const target = select({ name: 'status' }, [['', 'Choose a status'], ...others], '');
    const note = h('textarea', { name: 'note', rows: 3, maxlength: 2000 }, noteSoFar);
    const rule = h('div', { class: 'rule', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', disabled: true }, 'Change status');
    const error = h('div', { class: 'error', role: 'alert' });
    // The version the user decides on: taken when they start, so that a change someone else
    // makes while they decide is a 412 that the page explains.
    let baseline = null;
    const start = () => { baseline ??= { claim: state.claim, etag: state.etag }; };
    let said = '';
    const check = () => {
      const chosen = rules.find((r) => r.status === target.value);
      const missing = [];
      if (chosen?.needsEvidence && counts()[chosen.needsEvidence] === 0) {
        missing.push(`This claim has no evidence whose stance is “${stances[chosen.needsEvidence]}” yet: add it under Evidence first.`);
      }
      if (chosen?.needsNote && !note.value.trim()) missing.push('Write a note saying why.');
      submit.disabled = !chosen || missing.length > 0;
      // Written again only when the words change, so that a screen reader hears them once.
      const words = chosen ? [chosen.rule, ...missing].join('\n') : '';
      if (words === said) return;
      said = words;
      fill(rule, chosen ? h('p', {}, chosen.rule) : null, missing.map((text) => h('p', { class: 'unmet' }, text)));
    };
    target.addEventListener('change', () => { start(); check(); });
    note.addEventListener('input', () => { start(); check(); });
    const form = h('form', { onsubmit: (event) => {
      event.preventDefault();
      start();
      whileBusy(submit, async () => {
        fill(error);
        const to = target.value;
        try {
          await call('PUT', `${path}/status`, { body: { status: to, note: note.value.trim() || null }, ifMatch: baseline.etag });
        } catch (failure) {
          if (failure.status === 412) await showConflict(error, baseline.claim, () => { baseline = null; });
          else fill(error, failure.explanation ?? String(failure));
          return;
        }
        notify(`The claim is now ${statuses[to]}.`);
        await refresh();
        statusSection.querySelector('h2')?.focus();
      }).then(check);
    } },
    field('New status', target),
    field('Note', note, 'Why: required to confirm, dispute, mark false or inconclusive.'),
    rule, submit, error);
    return { from, form, check, note: () => note.value, rebase: () => { if (baseline) baseline = { claim: state.claim, etag: state.etag }; } };
  }

  function evidenceForm() {
    const picker = sourcePicker({ label: 'Source', canCreate: true, signal });
    const stance = select({ name: 'stance' }, [['', 'Choose a stance'], ...choices(stances)], '');
    const quote = h('textarea', { name: 'quote', rows: 3, maxlength: 4000, dir: 'auto' });
    const url = h('input', { type: 'url', name: 'url', placeholder: 'https://', maxlength: 2048 });
    const credibility = select({ name: 'credibility' }, choices(credibilities), '6');
    const note = h('textarea', { name: 'note', rows: 2, maxlength: 2000 });
    const submit = h('button', { type: 'submit' }, 'Add evidence');
    const error = h('div', { class: 'error', role: 'alert' });
    let key = newKey();
    const form = h('form', { class: 'inline-form', onsubmit: (event) => {
      event.preventDefault();
      whileBusy(submit, async () => {
        fill(error);
        const source = picker.chosen();
        if (!source) {
          fill(error, 'Choose a source (or create one) first.');
          return;
        }
        try {
          await call('POST', `${path}/evidence`, {
            body: {
              sourceId: source.id, stance: stance.value || null, quote: quote.value.trim() || null,
              url: url.value.trim() || null, note: note.value.trim() || null, credibility: Number(credibility.value),
            },
            idempotencyKey: key,
          });
        } catch (failure) {
          // A refused request stored nothing; only a lost answer keeps the key for the retry.
          if (failure.status) key = newKey();
          fill(error, failure.explanation ?? String(failure));
          return;
        }
        notify(`Linked ${source.name} to the claim.`);
        key = newKey();
        picker.clear();
        form.reset();
        await refresh();
        picker.focus();
      });
    } },
    h('h3', {}, 'Add evidence'),
    picker.element,
    field('Stance', stance), field('Quote', quote, 'The source’s exact words.'), field('Link', url, 'Where the source said it.'),
    field('Credibility', credibility), field('Evidence note', note),
    submit, error);
    return form;
  }

  /** The edit form, on the claim as it is now; values the user typed before a reload come back in. */
  function openEditor(typed) {
    state.editing = true;
    const baseline = { claim: state.claim, etag: state.etag };
    const claim = baseline.claim;
    const values = typed ?? {
      statement: claim.statement, summary: claim.summary ?? '', language: claim.language,
      tags: claim.tags.join(', '), firstReportedOn: claim.firstReportedOn ?? '',
    };
    const statement = h('textarea', { name: 'statement', rows: 3, required: true, maxlength: 2000, lang: claim.language, dir: 'auto' }, values.statement);
    const summary = h('textarea', { name: 'summary', rows: 3, maxlength: 4000, dir: 'auto' }, values.summary);
    const language = h('input', { type: 'text', name: 'language', value: values.language, maxlength: 35, list: 'desk-languages' });
    const tags = h('input', { type: 'text', name: 'tags', value: values.tags });
    const reported = h('input', { type: 'date', name: 'firstReportedOn', value: values.firstReportedOn });
    const submit = h('button', { type: 'submit' }, 'Save changes');
    const error = h('div', { class: 'error', role: 'alert' });
    const close = () => {
      state.editing = false;
      fill(editArea);
      renderAll();
    };
    const typedNow = () => ({
      statement: statement.value, summary: summary.value, language: language.value, tags: tags.value, firstReportedOn: reported.value,
    });
    const form = h('form', { class: 'card', onsubmit: (event) => {
      event.preventDefault();
      whileBusy(submit, async () => {
        fill(error);
        const patch = {
          statement: statement.value.trim(), summary: summary.value.trim() || null, language: language.value.trim() || null,
          tags: tags.value.split(/[,;]/).map((tag) => tag.trim().toLowerCase()).filter(Boolean), firstReportedOn: reported.value || null,
        };
        try {
          await call('PATCH', path, { body: patch, contentType: 'application/merge-patch+json', ifMatch: baseline.etag });
        } catch (failure) {
          if (failure.status === 412) {
            const mine = typedNow();
            await showConflict(error, claim, () => {
              state.editing = false;
              openEditor(mine);
            }, 'Reload and keep my edits');
          } else {
            fill(error, failure.explanation ?? String(failure));
          }
          return;
        }
        notify('Saved.');
        state.editing = false;
        fill(editArea);
        await refresh();
        header.querySelector('h1')?.focus();
      });
    } },
    h('h2', {}, 'Edit claim'),
    field('Statement', statement), field('Summary', summary), field('Language', language, 'A language tag: en, uk, ru, ko…'),
    field('Tags', tags, 'Separated by commas.'), field('First reported on', reported),
    h('datalist', { id: 'desk-languages' }, Object.keys(languages).map((code) => h('option', { value: code }))),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'secondary', onclick: close }, 'Cancel')),
    error);
    fill(editArea, form);
    renderAll();
    statement.focus();
  }

  // A 412: someone changed the claim after the user started from it. Say so, say what changed,
  // and offer to reload; nothing is sent again until the user has seen the new version.
  async function showConflict(where, seen, afterReload, reloadWords = 'Reload the claim') {
    let now = null;
    try {
      now = (await call('GET', path, { signal })).body;
    } catch {
      now = null;
    }
    const changes = now ? differences(seen, now) : [];
    const reload = h('button', { type: 'button', onclick: () => whileBusy(reload, async () => {
      await refresh();
      afterReload?.();
      notify('Reloaded: you now see the latest version.');
      if (!state.editing) header.querySelector('h1')?.focus();
    }) }, reloadWords);
    fill(where,
      h('p', {}, 'Someone else changed this claim after you opened it. Your change was not saved.'),
      changes.length ? h('ul', { class: 'changes' }, changes.map((words) => h('li', {}, words))) : null,
      reload);
    reload.focus();
  }
}

/** What differs between two versions of a claim, in sentences. */
export function differences(before, after) {
  const said = [];
  const quote = (text) => (text ? `“${text}”` : 'nothing');
  if (before.statement !== after.statement) said.push(`The statement is now ${quote(after.statement)} (was ${quote(before.statement)}).`);
  if (before.status !== after.status) said.push(`The status is now ${statuses[after.status]} (was ${statuses[before.status]}).`);
  if ((before.statusNote ?? '') !== (after.statusNote ?? '')) said.push(`The status note is now ${quote(after.statusNote)}.`);
  if ((before.summary ?? '') !== (after.summary ?? '')) said.push(`The summary is now ${quote(after.summary)}.`);
  if (before.language !== after.language) said.push(`The language is now ${after.language} (was ${before.language}).`);
  if (before.tags.join() !== after.tags.join()) said.push(`The tags are now ${after.tags.length ? listed(after.tags) : 'none'}.`);
  if ((before.firstReportedOn ?? '') !== (after.firstReportedOn ?? '')) said.push(`First reported is now ${after.firstReportedOn ? onDay(after.firstReportedOn) : 'empty'}.`);
  const ids = (claim) => new Set((claim.evidence ?? []).map((item) => item.id));
  const [was, is] = [ids(before), ids(after)];
  const added = (after.evidence ?? []).filter((item) => !was.has(item.id));
  const removed = (before.evidence ?? []).filter((item) => !is.has(item.id));
  if (added.length) said.push(`Evidence was added from ${listed(added.map((item) => item.source.name))}.`);
  if (removed.length) said.push(`Evidence was removed from ${listed(removed.map((item) => item.source.name))}.`);
  return said;
}
