// The API's vocabularies in words a journalist reads, and dates in the reader's own locale.

export const statuses = {
  unverified: 'Unverified',
  in_review: 'In review',
  confirmed: 'Confirmed',
  disputed: 'Disputed',
  false: 'False',
  inconclusive: 'Inconclusive',
};

export const stances = {
  asserts: 'Makes the claim',
  supports: 'Supports',
  refutes: 'Refutes',
  unable_to_verify: 'Could not verify',
  mentions: 'Mentions',
};

export const kinds = {
  person: 'Person',
  outlet: 'Outlet',
  government: 'Government',
  organization: 'Organization',
  document: 'Document',
  social_media: 'Social media',
  anonymous: 'Anonymous',
};

// Admiralty grades (NATO STANAG 2511), as the README lists them.
export const reliabilities = {
  A: 'A: completely reliable',
  B: 'B: usually reliable',
  C: 'C: fairly reliable',
  D: 'D: not usually reliable',
  E: 'E: unreliable',
  F: 'F: cannot be judged',
};

export const credibilities = {
  1: '1: confirmed by other sources',
  2: '2: probably true',
  3: '3: possibly true',
  4: '4: doubtful',
  5: '5: improbable',
  6: '6: cannot be judged',
};

export const languages = { en: 'English', uk: 'Ukrainian', ru: 'Russian', ko: 'Korean' };

export const roles = ['reader', 'reporter', 'editor', 'admin'];

/** Whether a session's role reaches the one an action needs (the API decides; the page only hides what would be refused). */
export const may = (session, role) => roles.indexOf(session?.role) >= roles.indexOf(role);

const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
// A day without a time (first reported on) is the same day wherever the reader is.
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

export const when = (iso) => (iso ? moment.format(new Date(iso)) : '');
export const onDay = (isoDate) => (isoDate ? day.format(new Date(`${isoDate}T00:00:00Z`)) : '');

/** Pairs for a select: [value, words]. */
export const choices = (vocabulary) => Object.entries(vocabulary);

/** The list of words for "a, b and c". */
export const listed = (items) => new Intl.ListFormat('en', { style: 'long', type: 'conjunction' }).format(items);
