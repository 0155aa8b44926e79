// Changes made by others reach an open page through the API's event stream (Server-Sent
// Events). A view opens its stream before it reads what it shows, starting at the newest event
// (fromNow), so that a change committed while it reads still reaches it; EventSource resumes
// with Last-Event-ID by itself after a dropped connection. The header says whether it is live.
import { query } from './api.js';

const claimEvents = ['claim.created', 'claim.updated', 'claim.deleted', 'claim.status_changed', 'evidence.added', 'evidence.removed'];
const indicator = () => document.getElementById('live');

/**
 * Calls onEvent(type, cloudEvent) for each event passing the filter. Returns { stop, opened }:
 * opened resolves once the stream is subscribed (or after a few seconds without, so a page
 * never waits long for it).
 */
export function listen(filter, onEvent) {
  if (typeof EventSource === 'undefined') return { stop: () => {}, opened: Promise.resolve(false) };
  const source = new EventSource(`/events/stream${query({ ...filter, fromNow: true })}`);
  const opened = new Promise((resolve) => {
    source.addEventListener('open', () => resolve(true), { once: true });
    source.addEventListener('error', () => resolve(false), { once: true });
    setTimeout(() => resolve(false), 5000);
  });
  source.addEventListener('open', () => show('Live', 'Changes by others appear as they happen.'));
  source.addEventListener('error', () => show(
    source.readyState === EventSource.CLOSED ? 'Not live' : 'Reconnecting…',
    'Changes by others appear after a reload until the connection is back.'));
  const handler = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // an event the page cannot read changes nothing on it
    }
    onEvent(message.type, event);
  };
  for (const type of filter.type ?? claimEvents) source.addEventListener(type, handler);
  return {
    opened,
    stop: () => {
      source.close();
      show(null);
    },
  };
}

function show(words, explanation) {
  const element = indicator();
  if (!element) return;
  element.hidden = !words;
  element.textContent = words ?? '';
  element.title = explanation ?? '';
}
