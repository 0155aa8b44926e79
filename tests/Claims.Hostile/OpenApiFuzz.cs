using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CsCheck;

namespace Claims.Hostile;

/// <summary>
/// Requests built from the OpenAPI document itself (ids, query parameters, headers and bodies,
/// right and wrong) and the rule every answer must keep: never 5xx, only a status the document
/// lists for the operation, every error a problem. Half the requests are sane (real ids, valid
/// values, the admin key), so that they reach the handlers and the database; the other half are
/// chaos in every part.
/// </summary>
public static class OpenApiFuzz
{
    /// <summary>Bodies stay under the 256 KB limit: 413 is a matter of its own.</summary>
    public const int MaxBodyBytes = 250_000;

    private static readonly JsonSerializerOptions RawUtf8 = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Nasty =
    [
        "a", "Z", "0", "7", "-", "_", "~", " ", "  ", "\t", "\n", "\0", "'", "\"", "\\", "/", "%", "%00", "%2F", "?", "#", "&", "=", "+", ";", ",",
        "!", "|", ":*", "<->", "(", ")", "[", "]", "{", "}", "<", ">", "*", "$", "@", "^", "`",
        "ж", "Україна", "é", "훈련을", "러시아에서", "北朝鮮", "😀", "\u202e", "\u200b", "\ufeff", "ǅ", "İ",
        "' OR 1=1 --", "; DROP TABLE claims;", "${x}", "{{x}}", "%s%n", "..", "null", "NaN", "-1", "1e999",
        "north-korea", "russia", "soldiers", "relevance", "-createdAt", "-firstReportedOn", "-updatedAt", "en", "uk", "pt-BR", "zh-Hant-TW",
    ];

    private static readonly string[] Realistic =
    [
        "North Korean soldiers are training in Russia.", "Lloyd Austin", "US Secretary of Defense.", "there is evidence",
        "https://suspilne.media/", "https://hromadske.ua/en/posts/1", "north-korea", "en", "uk", "ko", "Seeking a second source.",
    ];

    private static readonly string[] WrongTypes =
        ["null", "true", "false", "0", "-1", "1.5", "1e308", "-0", "\"\"", "\"x\"", "[]", "{}", "[1,\"a\",null]", """{"a":{"b":[]}}"""];

    private static readonly string[] Dates = ["2024-10-23", "2022-02-24", "0001-01-01", "9999-12-31", "2024-02-30", "24-10-23", "2024-10-23T10:00:00Z", "", "yesterday"];

    private static readonly string[] DateTimes =
    [
        "2024-10-23T14:05:00Z", "2024-10-23T14:05:00+03:00", "2024-10-23", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z", "2024-10-23T25:00:00Z", "", "now",
    ];

    private static readonly string[] Urls =
    [
        "https://suspilne.media/", "http://example.com/a?b=c#d", "ftp://suspilne.media/", "javascript:alert(1)", "https://exa mple.com/",
        "http://", "https://[::1]:99999/", "HTTPS://SUSPILNE.MEDIA/", "//suspilne.media/", "https://suspilne.media/\0",
    ];

    /// <summary>Content types other than plain application/json: some JSON in another spelling, most not JSON at all.</summary>
    private static readonly string[] OddContentTypes =
    [
        "application/json; charset=utf-8", "application/merge-patch+json", "application/json; charset=utf-16", "application/json; charset=foo",
        "application/json; charset=", "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    ];

    /// <summary>Every operation of the document, with one generator that picks among them.</summary>
    public static Gen<FuzzRequest> Requests(JsonElement document, Known known) =>
        Gen.OneOf([.. Operation.All(document).Select(op => Request(op, document, known))])
            .Where(r => r.Body is null || Encoding.UTF8.GetByteCount(r.Body) <= MaxBodyBytes);

    /// <summary>
    /// Sends the request and reads the answer's body, except an event stream's, which does not end
    /// by itself: its status and headers are what there is to check, and disposing the answer
    /// closes the stream.
    /// </summary>
    public static async Task<(HttpResponseMessage Response, string Body)> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken ct = default)
    {
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var body = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync(ct);
        return (response, body);
    }

    /// <summary>What is wrong with an answer, or null when it keeps the rule.</summary>
    public static string? Violation(FuzzRequest request, int status, string? mediaType, string body)
    {
        var answer = $"{status} {mediaType}: {Truncate(body, 600)}";
        if (status >= 500)
        {
            return $"5xx for {request}\n  -> {answer}";
        }

        if (!request.Documented.Contains(status.ToString(CultureInfo.InvariantCulture)))
        {
            return $"{request.Operation} answered {status}, which it does not document ({string.Join(", ", request.Documented)}), for {request}\n  -> {answer}";
        }

        if (status >= 400)
        {
            if (mediaType != "application/problem+json")
            {
                return $"{status} is not a problem for {request}\n  -> {answer}";
            }

            try
            {
                if (JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32() != status)
                {
                    return $"The problem's status is not {status} for {request}\n  -> {answer}";
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return $"The problem is not a JSON object with a status for {request}\n  -> {answer}";
            }
        }

        return null;
    }

    /// <summary>
    /// Records for the ids to point at, made through the API with the admin client; deletes only
    /// ever point at the victims, so the rest stay to be read.
    /// </summary>
    public static async Task<Known> PrepareAsync(HttpClient admin, string adminKey)
    {
        async Task<JsonElement> Post(string url, object body)
        {
            using var response = await admin.PostAsJsonAsync(url, body);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Setting up the fuzz records: POST {url} answered {(int)response.StatusCode}: {text}");
            }

            return JsonDocument.Parse(text).RootElement.Clone();
        }

        Guid Id(JsonElement e) => e.GetProperty("id").GetGuid();
        var source = Id(await Post("/sources", new { name = "Suspilne", kind = "outlet", reliability = "C" }));
        var victimSource = Id(await Post("/sources", new { name = "Hromadske", kind = "outlet", reliability = "B" }));
        var created = await Post("/claims", new
        {
            statement = "North Korean soldiers are training in Russia.",
            evidence = new[] { new { sourceId = source, stance = "supports" }, new { sourceId = source, stance = "asserts" } },
        });
        var victims = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            victims.Add(Id(await Post("/claims", new
            {
                statement = $"North Korean soldiers sent to Russia have deserted ({i}).",
                evidence = new[] { new { sourceId = source, stance = "refutes" } },
            })));
        }

        var evidence = created.GetProperty("evidence");
        var reader = await Post("/admin/keys", new { name = "fuzz reader", role = "reader" });
        var victimKey = await Post("/admin/keys", new { name = "fuzz victim", role = "reporter" });
        return new Known(Id(created), [.. victims], source, victimSource, Id(evidence[0]), Id(evidence[1]), Id(victimKey), reader.GetProperty("key").GetString()!, adminKey);
    }

    // ---- Requests ------------------------------------------------------------------------------

    /// <summary>
    /// Half the requests are sane (real ids, valid values, the admin key), so that they reach the
    /// handlers and the database; the other half are chaos in every part.
    /// </summary>
    public static Gen<FuzzRequest> Request(Operation op, JsonElement document, Known known) =>
        Gen.Frequency((1, Request(op, document, known, sane: true)), (1, Request(op, document, known, sane: false)));

    private static Gen<FuzzRequest> Request(Operation op, JsonElement document, Known known, bool sane)
    {
        var path = Fold(
            op.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(segment =>
                segment.StartsWith('{') ? PathValue(op.Method, op.Path, segment.Trim('{', '}'), known, sane).Select(Uri.EscapeDataString) : Gen.Const(segment)))
            .Select(segments => "/" + string.Join('/', segments));
        var query = Fold(op.Parameters.Where(p => p.GetProperty("in").GetString() == "query").Select(p => QueryParameter(p.GetProperty("name").GetString()!, p.GetProperty("schema"), document, known, sane)))
            .SelectMany(parts => (sane ? Gen.Const("") : Gen.Frequency((6, Gen.Const("")), (1, Gen.OneOf(Nasty).Select(v => "&unknownParameter=" + Uri.EscapeDataString(v)))))
                .Select(extra => string.Concat(parts) + extra));
        var body = op.BodySchema is { } schema ? Body(schema, document, known, sane).Select(b => (string?)b) : Gen.Const((string?)null);
        var contentType = op.BodySchema is null ? Gen.Const((string?)null)
            : sane ? Gen.Const<string?>(op.BodyMediaType)
            : Gen.Frequency((3, Gen.Const<string?>(op.BodyMediaType)), (2, Gen.OneOf<string?>([.. OddContentTypes.Append("application/json").Where(c => c != op.BodyMediaType)])), (1, Gen.Const((string?)null)));
        var keyKind = sane
            ? Gen.Frequency((9, Gen.Const(KeyKind.Admin)), (1, Gen.Const(KeyKind.Reader)))
            : Gen.Frequency((8, Gen.Const(KeyKind.Admin)), (2, Gen.Const(KeyKind.None)), (1, Gen.Const(KeyKind.Unknown)), (1, Gen.Const(KeyKind.Oversized)), (1, Gen.Const(KeyKind.Reader)));
        var headers = Headers(op, sane);

        return Gen.Select(path, query, body, contentType, keyKind, headers, (p, q, b, c, k, h) =>
            new FuzzRequest(op.Name, op.Method, p + (q.Length == 0 ? "" : "?" + q.TrimStart('&')), k, b, c, h, op.Documented));
    }

    private static Gen<string> PathValue(string method, string template, string name, Known known, bool sane)
    {
        var delete = method == "DELETE";
        var real = (name == "evidenceId" ? Gen.Const(delete ? known.VictimEvidence : known.Evidence)
            : template.StartsWith("/sources", StringComparison.Ordinal) ? Gen.Const(delete ? known.VictimSource : known.Source)
            : template.StartsWith("/admin/keys", StringComparison.Ordinal) ? Gen.Const(known.VictimKey)
            : delete && !template.Contains("evidenceId", StringComparison.Ordinal) ? Gen.OneOf(known.VictimClaims)
            : Gen.Const(known.Claim)).Select(g => g.ToString());
        if (sane)
        {
            return Gen.Frequency((8, real), (1, Gen.Guid.Select(g => g.ToString())));
        }

        return Gen.Frequency(
            (2, real),
            (2, Gen.Guid.Select(g => g.ToString())),
            (1, Gen.Guid.Select(g => g.ToString("N"))),
            (1, Gen.Guid.Select(g => g.ToString("B").ToUpperInvariant())),
            (1, Gen.OneOf("00000000-0000-0000-0000-000000000000", "0", "-1", "null", "undefined", new string('a', 2000), "0192b8a0-5000-7000-8000-00000000000")),
            // Not NUL: the test host refuses to build such a request (a real server answers 400 before the app).
            (3, Junk(1, 12).Where(s => s.Trim('.').Length > 0 && !s.Contains('\0', StringComparison.Ordinal) && s is not ("similar" or "statuses"))));
    }

    private static Gen<string> QueryParameter(string name, JsonElement schema, JsonElement document, Known known, bool sane)
    {
        var isArray = schema.TryGetProperty("type", out var type) && type.GetString() == "array";
        var single = isArray ? Resolve(schema.GetProperty("items"), document) : schema;
        var value = sane ? SaneQueryValue(name, single, known) : QueryValue(single, known);
        var values = isArray ? value.Array[1, 3]
            : sane ? value.Select(v => new[] { v })
            : Gen.Frequency((6, value.Select(v => new[] { v })), (1, value.Array[2, 2]));
        var present = values.Select(vs => string.Concat(vs.Select(v => $"&{name}={Uri.EscapeDataString(v)}")));
        return sane && name == "cursor" ? Gen.Const("")
            : sane ? Gen.Frequency((3, Gen.Const("")), (1, present))
            : Gen.Frequency((1, Gen.Const("")), (1, present));
    }

    private static Gen<string> SaneQueryValue(string name, JsonElement schema, Known known)
    {
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        if (schema.TryGetProperty("enum", out var values))
        {
            return Gen.OneOf([.. values.EnumerateArray().Select(v => v.ToString())]);
        }

        return (type, format) switch
        {
            ("integer", _) => Gen.Int[Bound(schema, "minimum", 1), Math.Min(Bound(schema, "maximum", 100), 100)].Select(i => i.ToString(CultureInfo.InvariantCulture)),
            ("number", _) => Gen.OneOf("0.1", "0.3", "0.5", "1"),
            ("string", "uuid") => Gen.OneOf([.. known.Claims, known.Source]).Select(g => g.ToString()),
            ("string", "date") => Gen.OneOf("2022-02-24", "2024-10-23"),
            ("string", "date-time") => Gen.OneOf("2024-10-23T14:05:00Z", "2024-10-23T14:05:00+03:00"),
            _ => Gen.OneOf(Hints(name)),
        };
    }

    private static Gen<string> QueryValue(JsonElement schema, Known known)
    {
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        var junk = Junk(0, 8);
        if (schema.TryGetProperty("enum", out var values))
        {
            var allowed = values.EnumerateArray().Select(v => v.ToString()).ToArray();
            return Gen.Frequency((6, Gen.OneOf(allowed)), (1, Gen.OneOf(allowed).Select(v => v.ToUpperInvariant())), (2, junk));
        }

        return (type, format) switch
        {
            ("integer", _) => Gen.Frequency(
                (4, Gen.Int[Bound(schema, "minimum", -5), Bound(schema, "maximum", 1000)].Select(i => i.ToString(CultureInfo.InvariantCulture))),
                (2, Gen.OneOf(Edges(schema))),
                (1, junk)),
            ("number", _) => Gen.Frequency(
                (4, Gen.Double[0, 1].Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
                (2, Gen.OneOf("NaN", "Infinity", "-Infinity", "1e309", "-0", "0.05", "1", "1.0000001", "0,5", "")),
                (1, junk)),
            ("string", "uuid") => Gen.Frequency(
                (3, Gen.OneOf([.. known.Claims, known.Source]).Select(g => g.ToString())),
                (3, Gen.Guid.Select(g => g.ToString())),
                (2, junk)),
            ("string", "date") => Gen.Frequency((4, Gen.OneOf(Dates)), (1, junk)),
            ("string", "date-time") => Gen.Frequency((4, Gen.OneOf(DateTimes)), (1, junk)),
            _ => Text(MaxLength(schema), allowHuge: false),
        };
    }

    private static Gen<ImmutableArray<(string Name, string Value)>> Headers(Operation op, bool sane)
    {
        var none = Gen.Const(ImmutableArray<(string, string)>.Empty);
        Gen<ImmutableArray<(string, string)>> One(string name, Gen<string> value) => value.Select(v => ImmutableArray.Create((name, v)));
        var ifMatch = !(op.Documented.Contains("412") || op.Documented.Contains("428")) ? none
            // Versions move as the sane writes succeed; a range keeps some of them current.
            : sane ? Gen.Frequency((1, none), (6, One("If-Match", Gen.Int[1, 30].Select(v => $"\"{v}\""))))
            : Gen.Frequency((2, none), (6, One("If-Match", Gen.OneOf("*", "\"1\"", "\"2\"", "W/\"1\"", "\"999\"", "junk", "\"1\", \"2\"", "\"\""))));
        var ifNoneMatch = !op.Documented.Contains("304") ? none
            : Gen.Frequency((2, none), (1, One("If-None-Match", Gen.OneOf("*", "\"abc\"", "junk", "W/\"abc\""))));
        var idempotency = !op.Documented.Contains("422") ? none
            : sane ? Gen.Frequency((3, none), (1, One("Idempotency-Key", Gen.Guid.Select(g => g.ToString()))), (1, One("Idempotency-Key", Gen.OneOf("fuzz-key-1", "fuzz-key-2"))))
            : Gen.Frequency((3, none), (3, One("Idempotency-Key", Gen.OneOf("fuzz-key-1", "fuzz-key-2", "\"fuzz-key-1\"", new string('k', 300), "\"\"", " ", "a b", "ключ"))),
                (2, One("Idempotency-Key", Gen.Guid.Select(g => g.ToString()))));
        return Gen.Select(ifMatch, ifNoneMatch, idempotency, (a, b, c) => a.AddRange(b).AddRange(c));
    }

    // ---- Bodies --------------------------------------------------------------------------------

    private static Gen<string> Body(JsonElement schema, JsonElement document, Known known, bool sane) => sane
        ? Object(Resolve(schema, document), document, known, depth: 0, sane: true)
        : Gen.Frequency(
            (12, Object(Resolve(schema, document), document, known, depth: 0, sane: false)),
            (2, Gen.Int[10, 5000].SelectMany(n => Gen.OneOf(
                new string('[', n) + new string(']', n),
                "{\"statement\":" + string.Concat(Enumerable.Repeat("{\"a\":", n)) + "1" + new string('}', n + 1),
                string.Concat(Enumerable.Repeat("[{\"ids\":", n)) + "null" + string.Concat(Enumerable.Repeat("}]", n))))),
            (2, Gen.OneOf("", " ", "null", "[]", "[{}]", "{}", "\"statement\"", "42", "true", "{", "{\"statement\":", "{\"statement\":\"a\"", "<claim/>",
                "statement=a&name=b", "\u0000", "{\"a\":1,}", "{'statement':'a'}", "\ufeff{}")),
            (1, Junk(1, 40)),
            (1, Object(Resolve(schema, document), document, known, depth: 0, sane: false).Select(json => json[..(json.Length / 2)])));

    private static Gen<string> Object(JsonElement schema, JsonElement document, Known known, int depth, bool sane)
    {
        var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(n => n.GetString()!).ToHashSet() : [];
        var properties = schema.TryGetProperty("properties", out var p) ? p.EnumerateObject().ToList() : [];
        var members = properties.Select(property =>
        {
            var value = Value(property.Name, Resolve(property.Value, document), document, known, depth, sane).Select(v => (string?)$"{JsonSerializer.Serialize(property.Name)}:{v}");
            return (required.Contains(property.Name), sane) switch
            {
                (true, true) => value,
                (true, false) => Gen.Frequency((8, value), (1, Gen.Const((string?)null))),
                (false, true) => Gen.Frequency((1, value), (1, Gen.Const((string?)null))),
                (false, false) => Gen.Frequency((4, value), (3, Gen.Const((string?)null))),
            };
        });
        var extra = sane ? Gen.Const((string?)null) : Gen.Frequency(
            (8, Gen.Const((string?)null)),
            (1, Gen.OneOf("id", "status", "version", "createdAt", "createdBy", "evidence", "claimId", "ids", "__proto__", "$type", "", "statement\u0000")
                .SelectMany(name => Gen.OneOf(WrongTypes).Select(v => (string?)$"{JsonSerializer.Serialize(name)}:{v}"))));
        return Fold(members.Append(extra)).Select(parts => "{" + string.Join(',', parts.Where(part => part is not null)) + "}");
    }

    private static Gen<string> Value(string name, JsonElement schema, JsonElement document, Known known, int depth, bool sane)
    {
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        if (sane)
        {
            return schema.TryGetProperty("enum", out var valid) ? Gen.OneOf([.. valid.EnumerateArray().Select(v => v.ToString())]).Select(Json)
                : (type, format) switch
                {
                    ("string", "uuid") => Gen.Const(name == "sourceId" ? known.Source : known.Claims[0]).Select(g => Json(g.ToString())),
                    ("string", "date") => Gen.OneOf("2022-02-24", "2024-10-23").Select(Json),
                    ("string", "date-time") => Gen.OneOf("2024-10-23T14:05:00Z", "2024-10-23T14:05:00+03:00").Select(Json),
                    ("string", _) => Gen.OneOf(Hints(name)).Select(Json),
                    ("integer", _) => Gen.Int[Bound(schema, "minimum", 1), Math.Min(Bound(schema, "maximum", 100), 100)].Select(i => i.ToString(CultureInfo.InvariantCulture)),
                    ("number", _) => Gen.OneOf("0.5", "1"),
                    ("boolean", _) => Gen.OneOf("true", "false"),
                    ("array", _) => Array(name, schema, document, known, depth, sane),
                    _ when depth < 3 && schema.TryGetProperty("properties", out _) => Object(schema, document, known, depth + 1, sane),
                    _ => Gen.Const("null"),
                };
        }

        var wrong = Gen.OneOf(WrongTypes);
        if (schema.TryGetProperty("enum", out var values))
        {
            var allowed = values.EnumerateArray().Select(v => v.ToString()).ToArray();
            return Gen.Frequency(
                (8, Gen.OneOf(allowed).Select(Json)),
                (1, Gen.OneOf(allowed).Select(v => Json(v.ToUpperInvariant()))),
                (1, Gen.OneOf("", "Confirmed", "in-review", "unknown", "0", "99").Select(Json)),
                (1, Gen.OneOf("0", "1", "5", "99")),
                (1, wrong));
        }

        var allowHuge = depth == 0;
        var right = (type, format) switch
        {
            ("string", "uuid") => Gen.Frequency(
                (6, Gen.OneOf([.. known.Claims, known.Source, known.Evidence]).Select(g => Json(g.ToString()))),
                (3, Gen.Guid.Select(g => Json(g.ToString()))),
                (1, Gen.OneOf("00000000-0000-0000-0000-000000000000", "nope", "", "{0192b8a0-5000-7000-8000-000000000001}").Select(Json))),
            ("string", "date") => Gen.OneOf(Dates).Select(Json),
            ("string", "date-time") => Gen.OneOf(DateTimes).Select(Json),
            ("string", _) when name == "url" => Gen.Frequency((3, Gen.OneOf(Urls)), (1, Text(MaxLength(schema), allowHuge))).Select(Json),
            ("string", _) => Text(MaxLength(schema), allowHuge).Select(Json),
            ("integer", _) => Gen.Frequency(
                (4, Gen.Int[Bound(schema, "minimum", -5), Bound(schema, "maximum", 1000)].Select(i => i.ToString(CultureInfo.InvariantCulture))),
                (2, Gen.OneOf(Edges(schema).Where(e => e.Length > 0).ToArray()))),
            ("number", _) => Gen.OneOf("0", "0.5", "1", "-1", "1e400", "1.0"),
            ("boolean", _) => Gen.OneOf("true", "false"),
            ("array", _) => Array(name, schema, document, known, depth, sane),
            _ when depth < 3 && schema.TryGetProperty("properties", out _) => Object(schema, document, known, depth + 1, sane),
            _ => wrong,
        };
        return Gen.Frequency((8, right), (1, wrong), (1, Gen.Const("null")));
    }

    private static Gen<string> Array(string name, JsonElement schema, JsonElement document, Known known, int depth, bool sane)
    {
        var items = Resolve(schema.GetProperty("items"), document);
        var max = Bound(schema, "maxItems", 5);
        var min = Bound(schema, "minItems", 0);
        var value = Value(name, items, document, known, depth + 1, sane);
        var item = sane ? value : Gen.Frequency((12, value), (1, Gen.Const("null")));
        var count = sane ? Gen.Int[min, Math.Min(3, max)] : Gen.Frequency((8, Gen.Int[0, Math.Min(3, max)]), (1, Gen.Const(max)), (1, Gen.Const(max + 1)));
        return count.SelectMany(n => item.Array[n, n]).Select(elements => "[" + string.Join(',', elements) + "]");
    }

    /// <summary>Plausible text for a field or parameter, by its name: what a newsroom would send.</summary>
    private static string[] Hints(string name) => name switch
    {
        "statement" or "text" => ["North Korean soldiers are training in Russia.", "North Korean soldiers sent to Russia have deserted."],
        "q" => ["soldiers", "Russia", "훈련", "deserted soldiers", "suspil"],
        "summary" or "description" or "note" or "quote" => ["there is evidence", "US Secretary of Defense.", "Seeking a second source."],
        "language" => ["en", "uk", "ko", "pt-BR"],
        "tags" or "tag" => ["north-korea", "russia", "kursk"],
        "url" => ["https://suspilne.media/", "https://hromadske.ua/en/posts/1"],
        "name" => ["Suspilne", "Lloyd Austin", "night desk"],
        "sort" => ["-updatedAt", "-createdAt", "-firstReportedOn"],
        _ => ["there is evidence"],
    };

    private static Gen<string> Text(int? maxLength, bool allowHuge)
    {
        var limit = maxLength ?? 100;
        var choices = new List<(int, IGen<string>)>
        {
            (6, Gen.OneOf(Realistic)),
            (5, Junk(0, 20)),
            (1, Gen.OneOf("", " ", "   ", "\0", "a\0b", "\n")),
        };
        if (allowHuge)
        {
            choices.Add((1, Gen.OneOf(limit, limit + 1).Select(n => new string('a', n))));
            choices.Add((1, Gen.OneOf(limit, limit + 1).Select(n => new string('ж', n))));
            choices.Add((1, Gen.Int[10_000, 60_000].Select(n => new string('a', n))));
        }

        return Gen.Frequency([.. choices]);
    }

    private static Gen<string> Junk(int min, int max) => Gen.OneOf(Nasty).Array[min, max].Select(string.Concat);

    /// <summary>A JSON string, sometimes with non-ASCII escaped and sometimes as raw UTF-8.</summary>
    private static string Json(string text) => text.Length % 2 == 0 ? JsonSerializer.Serialize(text) : JsonSerializer.Serialize(text, RawUtf8);

    // ---- Schema helpers ------------------------------------------------------------------------

    private static JsonElement Resolve(JsonElement schema, JsonElement document)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            return document.GetProperty("components").GetProperty("schemas").GetProperty(name);
        }

        if (schema.TryGetProperty("allOf", out var all) && all.GetArrayLength() == 1)
        {
            return Resolve(all[0], document);
        }

        return schema;
    }

    private static int? MaxLength(JsonElement schema) => schema.TryGetProperty("maxLength", out var max) ? max.GetInt32() : null;

    private static int Bound(JsonElement schema, string keyword, int otherwise) =>
        schema.TryGetProperty(keyword, out var value) ? (int)Math.Clamp(value.GetDouble(), int.MinValue, int.MaxValue) : otherwise;

    private static string[] Edges(JsonElement schema)
    {
        var min = Bound(schema, "minimum", 0);
        var max = Bound(schema, "maximum", 100);
        return
        [
            $"{min - 1}", $"{min}", $"{max}", $"{max + 1}", "0", "-1", "2147483647", "2147483648", "-2147483649", "99999999999999999999",
            "1.5", "1e3", "0x10", " 5", "", "abc",
        ];
    }

    /// <summary>One generator of all the values of a sequence of generators, in order.</summary>
    private static Gen<ImmutableList<T>> Fold<T>(IEnumerable<Gen<T>> gens) =>
        gens.Aggregate(Gen.Const(ImmutableList<T>.Empty), (all, next) => all.SelectMany(list => next.Select(list.Add)));

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + $"… ({text.Length} chars)";

    // ---- Types ---------------------------------------------------------------------------------

    public enum KeyKind
    {
        Admin,
        Reader,
        None,
        Unknown,
        Oversized,
    }

    public sealed record Known(
        Guid Claim, Guid[] VictimClaims, Guid Source, Guid VictimSource, Guid Evidence, Guid VictimEvidence, Guid VictimKey, string ReaderKey, string AdminKey)
    {
        public Guid[] Claims => [Claim, .. VictimClaims];
    }

    /// <summary>One operation of the document; its body as JSON, or as a merge patch for PATCH.</summary>
    public sealed record Operation(string Name, string Method, string Path, JsonElement[] Parameters, JsonElement? BodySchema, string[] Documented, string? BodyMediaType = null)
    {
        private static readonly string[] BodyMediaTypes = ["application/json", "application/merge-patch+json"];

        public static List<Operation> All(JsonElement document) =>
        [
            .. document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
                .Where(method => method.Name is "get" or "post" or "put" or "delete" or "patch")
                .Select(method =>
                {
                    var op = method.Value;
                    var content = op.TryGetProperty("requestBody", out var requestBody) ? requestBody.GetProperty("content") : default;
                    var mediaType = content.ValueKind == JsonValueKind.Object
                        ? BodyMediaTypes.FirstOrDefault(type => content.TryGetProperty(type, out _))
                        : null;
                    var body = mediaType is null ? (JsonElement?)null : content.GetProperty(mediaType).GetProperty("schema");
                    return new Operation(
                        op.TryGetProperty("operationId", out var id) ? id.GetString()! : $"{method.Name.ToUpperInvariant()} {path.Name}",
                        method.Name.ToUpperInvariant(),
                        path.Name,
                        op.TryGetProperty("parameters", out var parameters) ? [.. parameters.EnumerateArray()] : [],
                        body,
                        [.. op.GetProperty("responses").EnumerateObject().Select(r => r.Name)],
                        mediaType);
                })),
        ];
    }

    public sealed record FuzzRequest(
        string Operation, string Method, string Url, KeyKind Key, string? Body, string? ContentType,
        ImmutableArray<(string Name, string Value)> Headers, string[] Documented)
    {
        public HttpRequestMessage ToMessage(Known known)
        {
            var message = new HttpRequestMessage(new HttpMethod(Method), Url);
            var key = Key switch
            {
                KeyKind.Admin => known.AdminKey,
                KeyKind.Reader => known.ReaderKey,
                KeyKind.Unknown => "clm_" + Guid.NewGuid().ToString("N"),
                KeyKind.Oversized => new string('k', 500),
                _ => null,
            };
            if (key is not null)
            {
                message.Headers.TryAddWithoutValidation("X-Api-Key", key);
            }

            foreach (var (name, value) in Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }

            if (Body is not null)
            {
                message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
                if (ContentType is not null)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            return message;
        }

        public override string ToString() =>
            $"{Method} {Url} [key: {Key}; {string.Join("; ", Headers.Select(h => $"{h.Name}: {h.Value}"))}] " +
            (Body is null ? "" : $"{ContentType ?? "(no content type)"} {Truncate(Body, 400)}");
    }
}
