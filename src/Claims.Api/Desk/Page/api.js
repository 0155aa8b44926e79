// Every call the desk makes goes to the public API, so validation, roles, If-Match and the
// verdict rules apply to the page as to any client. The session cookie authenticates; the
// CSRF token, held in memory only, goes with every write.

let csrfToken = null;

// Where reads may come from a replica, the last write's Consistency-Token goes with every later
// call, so that a journalist never sees the page forget what she just saved.
let consistencyToken = null;

/** A refusal from the API: its problem+json, and the ETag the answer carried (412 sends the current one). */
export class ApiError extends Error {
  constructor(status, problem, etag) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem ?? {};
    this.etag = etag;
  }

  get isCsrfRefusal() {
    return this.status === 403 && String(this.problem.type ?? '').endsWith('/csrf-refused');
  }

  /** What went wrong, in words: the problem's detail and each field's message. */
  get explanation() {
    const fields = Object.entries(this.problem.errors ?? {})
      .flatMap(([name, messages]) => messages.map((message) => `${name}: ${message}`));
    return [this.message, ...fields].join(' ');
  }
}

/** Calls the API; resolves to { body, etag } or throws ApiError. */
export async function call(method, path, { body, ifMatch, contentType = 'application/json', idempotencyKey, signal, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = contentType;
  if (ifMatch) headers['If-Match'] = ifMatch;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (consistencyToken) headers['Consistency-Token'] = consistencyToken;

  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, credentials: 'same-origin',
      // Never from the browser's cache: a claim's ETag is its version, which a source's rename
      // does not change, so a revalidated copy could show an old name; and nothing of the
      // newsroom's stays on the disk after sign-out.
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { title: 'The desk cannot reach the server.', detail: 'The desk cannot reach the server. Check the connection and try again.' });
  }

  const etag = response.headers.get('ETag');
  consistencyToken = later(consistencyToken, response.headers.get('Consistency-Token'));
  const text = response.status === 204 ? '' : await response.text();
  const parsed = text ? safeParse(text) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, parsed, etag);
    // Signing in from another tab replaced the session this tab's token belongs to: the cookie
    // names the new one, so its token is asked for once and the write sent again.
    if (error.isCsrfRefusal && !retried && method !== 'DELETE' && await currentSession()) {
      return call(method, path, { body, ifMatch, contentType, idempotencyKey, signal, retried: true });
    }
    throw error;
  }
  return { body: parsed, etag };
}

/** The later of two WAL positions ("16/B374D848"): answers to concurrent writes may arrive in either order. */
function later(current, given) {
  if (!given) return current;
  if (!current) return given;
  const value = (token) => token.split('/').map((half) => half.padStart(8, '0')).join('');
  return value(given) > value(current) ? given : current;
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

/** A fresh Idempotency-Key: a retried submission (a double click, a dropped answer) is stored once. */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export const get = (path, options) => call('GET', path, options).then((answer) => answer.body);

/** A query string from an object; arrays repeat their parameter, empty values are left out. */
export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== '') search.append(name, one);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The session of this browser, or null when it has none. */
export async function currentSession() {
  try {
    const { body } = await call('GET', '/desk/session');
    csrfToken = body.csrfToken;
    return body;
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

export async function signIn(apiKey) {
  const { body } = await call('POST', '/desk/session', { body: { apiKey } });
  csrfToken = body.csrfToken;
  return body;
}

/** Ends the session on the server; throws when the server did not confirm it, so the page never says "signed out" falsely. */
export async function signOut() {
  await call('DELETE', '/desk/session');
  csrfToken = null;
}
