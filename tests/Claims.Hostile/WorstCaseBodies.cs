using System.Net;
using System.Text;

namespace Claims.Hostile;

/// <summary>A request a hostile client could send within the limits, and the answer it must get.</summary>
public sealed record HostileRequest(string Name, HttpMethod Method, string Path, string Body, HttpStatusCode Expected)
{
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(Method, Path) { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        if (Method == HttpMethod.Put || Method == HttpMethod.Delete)
        {
            // A well-formed tag, so that the request gets as far as validation and the database.
            message.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        }

        return message;
    }
}

/// <summary>
/// The most expensive bodies we know of for every writable endpoint, each just under the 256 KB
/// body limit: collections far over their count, every error at once, the longest strings, deep
/// nesting, repeated properties. Each must cost a small multiple of a normal request, answer a
/// small 4xx problem, and store nothing.
/// </summary>
public static class WorstCaseBodies
{
    /// <summary>Under the 256 KB limit with room for the JSON around the payload.</summary>
    public const int Budget = 250_000;

    public const string Statement = "North Korean soldiers are training in Russia.";

    public static IReadOnlyList<HostileRequest> All(Guid claim, Guid source)
    {
        var unknownSource = Guid.CreateVersion7();
        var longText = new string('ж', Budget / 2 - 100);
        var evidenceAllWrong = string.Join(',', Enumerable.Range(0, 50).Select(_ =>
            """{"sourceId":"00000000-0000-0000-0000-000000000000","stance":"agrees","quote":"a\u0000","url":"ftp://x y","note":"b\u0000","credibility":9,"publishedAt":"0001-01-01T00:00:00Z"}"""));
        // The largest valid-looking evidence: long quotes and notes, all citing a source that does not exist.
        var quote = new string('q', 3_000);
        var note = new string('n', 1_500);
        var evidenceHeavy = string.Join(',', Enumerable.Range(0, 50).Select(i =>
            $$"""{"sourceId":"{{unknownSource}}","stance":"asserts","quote":"{{quote}}","note":"{{note}}","url":"https://suspilne.media/{{i}}","credibility":2}"""));
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", 40_000)) + "1" + new string('}', 40_000);

        return
        [
            new("claim: 40,000 evidence items", HttpMethod.Post, "/claims",
                $$"""{"statement":"{{Statement}}","evidence":[{{Repeat("{}", 40_000)}}]}""", HttpStatusCode.BadRequest),
            new("claim: 50 evidence items, every field wrong", HttpMethod.Post, "/claims",
                $$"""{"statement":"","summary":"\u0000","language":"english!","tags":[{{Repeat("\"Not A Slug!\"", 20)}}],"firstReportedOn":"0001-01-01","evidence":[{{evidenceAllWrong}}]}""", HttpStatusCode.BadRequest),
            new("claim: 50 long evidence items citing an unknown source", HttpMethod.Post, "/claims",
                $$"""{"statement":"{{Statement}}","evidence":[{{evidenceHeavy}}]}""", HttpStatusCode.BadRequest),
            new("claim: 40,000 tags", HttpMethod.Post, "/claims",
                $$"""{"statement":"{{Statement}}","tags":[{{Repeat("\"!\"", 40_000)}}]}""", HttpStatusCode.BadRequest),
            new("claim: statement of 125,000 Cyrillic letters", HttpMethod.Post, "/claims",
                $$"""{"statement":"{{longText}}"}""", HttpStatusCode.BadRequest),
            new("claim: JSON nested 40,000 deep", HttpMethod.Post, "/claims", nested, HttpStatusCode.BadRequest),
            new("claim: one property 4,000 times", HttpMethod.Post, "/claims",
                "{" + Repeat($"\"statement\":\"{Statement}\"", 4_000) + "}", HttpStatusCode.BadRequest),
            new("claim: 20,000 unknown properties", HttpMethod.Post, "/claims",
                "{" + string.Join(',', Enumerable.Range(0, 20_000).Select(i => $"\"p{i}\":1")) + "}", HttpStatusCode.BadRequest),
            new("claim replaced: 40,000 tags", HttpMethod.Put, $"/claims/{claim}",
                $$"""{"statement":"{{Statement}}","tags":[{{Repeat("\"a\"", 40_000)}}]}""", HttpStatusCode.BadRequest),
            new("source: description of 125,000 Cyrillic letters", HttpMethod.Post, "/sources",
                $$"""{"name":"Suspilne","kind":"outlet","description":"{{longText}}"}""", HttpStatusCode.BadRequest),
            new("source replaced: name of 125,000 zero-width spaces", HttpMethod.Put, $"/sources/{source}",
                $$"""{"name":"{{new string('\u200B', Budget / 3 - 100)}}","kind":"outlet"}""", HttpStatusCode.BadRequest),
            new("evidence: quote of 125,000 Cyrillic letters", HttpMethod.Post, $"/claims/{claim}/evidence",
                $$"""{"sourceId":"{{source}}","stance":"supports","quote":"{{longText}}"}""", HttpStatusCode.BadRequest),
            new("status: note of 125,000 Cyrillic letters", HttpMethod.Put, $"/claims/{claim}/status",
                $$"""{"status":"disputed","note":"{{longText}}"}""", HttpStatusCode.BadRequest),
            new("statuses: 6,000 ids", HttpMethod.Post, "/claims/statuses",
                $$"""{"ids":[{{Repeat($"\"{claim}\"", 6_000)}}]}""", HttpStatusCode.BadRequest),
            new("statuses: 500 ids, the most allowed", HttpMethod.Post, "/claims/statuses",
                $$"""{"ids":[{{string.Join(',', Enumerable.Range(0, 500).Select(i => $"\"{(i == 0 ? claim : Guid.CreateVersion7())}\""))}}]}""", HttpStatusCode.OK),
            new("key: name of 125,000 Cyrillic letters", HttpMethod.Post, "/admin/keys",
                $$"""{"name":"{{longText}}","role":"reader"}""", HttpStatusCode.BadRequest),
        ];
    }

    private static string Repeat(string item, int count) => string.Join(',', Enumerable.Repeat(item, count));
}
