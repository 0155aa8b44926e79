// The seed-story tour through openapi-fetch, typed by the schema.d.ts that openapi-typescript
// generated beside this file: one line per step on standard output, in the same words as the C#
// tour, so that one test reads both. The first step that goes otherwise ends the tour with its
// reason and exit code 1.
import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema.js";

// The problems the tour expects, as the document declares them. Assigning the client's error to
// these types is what proves the document types them: without a declared body, they do not exist.
type Conflict = paths["/claims/{id}/status"]["put"]["responses"][409]["content"]["application/problem+json"];
type Unauthorized = paths["/claims"]["get"]["responses"][401]["content"]["application/problem+json"];

// GET /claims and GET /sources also answer exports (text/csv, application/x-ndjson) beside their
// JSON page; openapi-fetch types data as the union of every media type a response declares, so
// the tour's client names the ones it reads, as openapi-fetch's second type parameter allows.
type Json = "application/json" | "application/problem+json";

const PAGE_SIZE = 3;
const MOST_PAGES = 100;

class TourFailed extends Error {}

/** What any answer of openapi-fetch has: the body on success, the problem otherwise. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful answer; anything else ends the tour with the status and the problem. */
async function must<T>(what: string, call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || data === undefined) {
    throw new TourFailed(`${what}: ${response.status} ${JSON.stringify(error)}`);
  }
  return data;
}

function connect(baseUrl: string, apiKey: string): Client<paths, Json> {
  return createClient<paths, Json>({ baseUrl: baseUrl.replace(/\/$/, ""), headers: { "X-Api-Key": apiKey } });
}

// openapi-fetch returns the standard Response, whose headers are read by name; the ETag is the
// claim's version in quotes, which the typed body gives.
function etag(version: number): string {
  return `"${version}"`;
}

function confirm(client: Client<paths, Json>, id: string, version: number) {
  return client.PUT("/claims/{id}/status", {
    params: { path: { id }, header: { "If-Match": etag(version) } },
    body: { status: "confirmed", note: "The US government backs South Korea's account." },
  });
}

/** Every claim, a page at a time with the cursor of the one before, up to MOST_PAGES pages. */
async function countClaims(client: Client<paths, Json>): Promise<{ claims: number; pages: number }> {
  let cursor: string | undefined;
  let claims = 0;
  for (let pages = 1; pages <= MOST_PAGES; pages++) {
    const page = await must("GET /claims", client.GET("/claims", { params: { query: { limit: PAGE_SIZE, cursor } } }));
    claims += page.items.length;
    if (page.nextCursor === null || page.nextCursor === undefined) {
      return { claims, pages };
    }
    cursor = page.nextCursor;
  }
  throw new TourFailed(`GET /claims still had a next page after ${MOST_PAGES} pages`);
}

async function tour(baseUrl: string, apiKey: string): Promise<void> {
  const client = connect(baseUrl, apiKey);

  const source = await must("POST /sources", client.POST("/sources", {
    body: {
      name: "South Korea's National Intelligence Service",
      kind: "government",
      reliability: "B",
      description: "South Korea's spy agency, which first said North Korean troops were on their way to Russia.",
    },
  }));
  console.log(`source: ${source.name} (${source.kind}, ${source.reliability}), version ${source.version}`);

  const claim = await must("POST /claims", client.POST("/claims", {
    body: {
      statement: "North Korea has sent about 1,500 special forces soldiers to Russia.",
      language: "en",
      tags: ["north-korea", "russia"],
      firstReportedOn: "2024-10-18",
      evidence: [{ sourceId: source.id, stance: "asserts", quote: "about 1,500 special forces soldiers", credibility: 2 }],
    },
  }));
  if (claim.evidence === null || claim.evidence === undefined) {
    throw new TourFailed("POST /claims answered without the claim's evidence");
  }
  console.log(`claim: ${claim.statement} (${claim.status}, version ${claim.version}, ${claim.evidence.length} evidence item)`);

  // Confirming needs supporting evidence: the 409 arrives as the document's problem type.
  const refused = await confirm(client, claim.id, claim.version);
  if (refused.response.status !== 409 || refused.error === undefined) {
    throw new TourFailed(`confirming without supporting evidence answered ${refused.response.status}`);
  }
  const conflict: Conflict = refused.error;
  console.log(`refused: ${refused.response.status} ${conflict.type} ${conflict.title}`);

  const found = await must("GET /sources", client.GET("/sources", { params: { query: { q: "US government" } } }));
  const government = found.items.find((s) => s.name === "US government");
  if (government === undefined) {
    throw new TourFailed("the seed story's source 'US government' was not found");
  }
  const support = await must("POST /claims/{id}/evidence", client.POST("/claims/{id}/evidence", {
    params: { path: { id: claim.id } },
    body: { sourceId: government.id, stance: "supports", quote: "There is evidence that there are DPRK troops in Russia.", credibility: 2 },
  }));
  // Adding evidence moved the claim to a new version; the claim's answer says which.
  const supported = await must("GET /claims/{id}", client.GET("/claims/{id}", { params: { path: { id: claim.id } } }));
  console.log(`supported: ${support.source.name} ${support.stance}, claim version ${supported.version}`);

  const confirmed = await must("PUT /claims/{id}/status", confirm(client, claim.id, supported.version));
  console.log(`confirmed: ${confirmed.status}, with If-Match ${etag(supported.version)}`);

  const status = await must("GET /claims/{id}/status", client.GET("/claims/{id}/status", { params: { path: { id: claim.id } } }));
  console.log(`status: ${status.status}, ${status.evidenceCounts.asserts} asserts, ${status.evidenceCounts.supports} supports`);

  const history = await must("GET /claims/{id}/history", client.GET("/claims/{id}/history", { params: { path: { id: claim.id } } }));
  const moves = history.items.map((change) => `${change.fromStatus ?? "null"} -> ${change.toStatus}`);
  console.log(`history: ${moves.join(", ")}`);

  const { claims, pages } = await countClaims(client);
  console.log(`paged: ${claims} claims in ${pages} pages`);

  const wrong = await connect(baseUrl, "not-a-key").GET("/claims");
  if (wrong.response.status !== 401 || wrong.error === undefined) {
    throw new TourFailed(`a wrong API key answered ${wrong.response.status}`);
  }
  const unauthorized: Unauthorized = wrong.error;
  console.log(`unauthorized: ${wrong.response.status} ${unauthorized.type} ${unauthorized.title}`);
}

const [baseUrl, apiKey] = process.argv.slice(2);
if (baseUrl === undefined || apiKey === undefined) {
  console.error("usage: node dist/tour.js <base url of the API> <API key>");
  process.exit(2);
}

try {
  await tour(baseUrl, apiKey);
} catch (failure) {
  console.error(`tour failed: ${failure instanceof Error ? failure.message : String(failure)}`);
  process.exitCode = 1;
}
