using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Claims.Tests;

/// <summary>GET /claims/{id}/claimreview and GET /claimreview: verdicts published as schema.org ClaimReview.</summary>
public sealed class ClaimReviewTests : IClassFixture<ApiFactory>
{
    private const string Newsroom = "Kyiv Fact Desk";
    private const string NewsroomUrl = "https://factcheck.example.org/";
    private const string ReviewUrlPattern = "https://factcheck.example.org/claims/{id}";

    private readonly HttpClient _client;

    public ClaimReviewTests(ApiFactory api)
    {
        api.Settings["Publisher:Name"] = Newsroom;
        api.Settings["Publisher:Url"] = NewsroomUrl;
        api.Settings["Publisher:ReviewUrlPattern"] = ReviewUrlPattern;
        _client = api.CreateClient();
    }

    // ---- GET /claims/{id}/claimreview ----

    [Theory]
    [InlineData("confirmed", 5, "True")]
    [InlineData("false", 1, "False")]
    [InlineData("disputed", 2, "Disputed")]
    [InlineData("inconclusive", 3, "Unproven")]
    public async Task AClaimWithAVerdictIsPublishedAsAClaimReviewWithItsRatingAndEveryPropertyWeFollow(string status, int value, string words)
    {
        var claim = await VerdictAsync(Story.Training, "en", status);

        var response = await _client.GetAsync($"/claims/{claim}/claimreview");

        var review = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(ClaimReviewShape.Missing(review));
        var rating = review.GetProperty("reviewRating");
        Assert.Equal(value, rating.GetProperty("ratingValue").GetInt32());
        Assert.Equal(words, rating.Str("alternateName"));
        Assert.Equal(5, rating.GetProperty("bestRating").GetInt32());
        Assert.Equal(1, rating.GetProperty("worstRating").GetInt32());
        Assert.Equal(Story.Training, review.Str("claimReviewed"));
        Assert.Equal("en", review.Str("inLanguage"));
        Assert.Equal($"https://factcheck.example.org/claims/{claim}", review.Str("url"));
        foreach (var party in new[] { review.GetProperty("author"), review.GetProperty("publisher") })
        {
            Assert.Equal("Organization", party.Str("@type"));
            Assert.Equal(Newsroom, party.Str("name"));
            Assert.Equal(NewsroomUrl, party.Str("url"));
        }

        // When the verdict was reached: the history's move to it, not the claim's last edit.
        var history = await (await _client.GetAsync($"/claims/{claim}/history")).ReadJsonAsync(HttpStatusCode.OK);
        var move = history.Items().Last();
        Assert.Equal(status, move.Str("toStatus"));
        Assert.Equal(move.GetProperty("changedAt").GetDateTime(), review.GetProperty("datePublished").GetDateTime());
    }

    [Fact]
    public async Task TheClaimIsAssertedByItsSourcesAsPersonOrOrganizationByKindAndAppearsWhereTheyPublishedIt()
    {
        var austin = await SourceAsync("Lloyd Austin", "person", "https://www.example.org/austin");
        var ministry = await SourceAsync("Ministry of Defence", "government", null);
        var outlet = await SourceAsync("Business Insider", "outlet", "https://news.example.org/");
        var claim = await ClaimAsync(Story.Training, "en", null,
            Evidence(ministry, "asserts", "https://gov.example.org/statement", "2024-10-24T08:00:00Z"),
            Evidence(austin, "asserts", "https://media.example.org/austin", "2024-10-23T12:00:00Z"),
            Evidence(outlet, "mentions", "https://news.example.org/report", "2024-10-23T18:00:00Z"),
            Evidence(outlet, "supports", "https://news.example.org/footage", "2024-10-25T09:00:00Z"));
        await _client.SetStatusAsync(claim, "confirmed", "Footage corroborates the statements.");

        var review = await (await _client.GetAsync($"/claims/{claim}/claimreview")).ReadJsonAsync(HttpStatusCode.OK);

        var item = review.GetProperty("itemReviewed");
        Assert.Equal("Claim", item.Str("@type"));
        Assert.Equal(
            ["Person Lloyd Austin https://www.example.org/austin", "Organization Ministry of Defence (no url)"],
            item.GetProperty("author").EnumerateArray()
                .Select(a => $"{a.Str("@type")} {a.Str("name")} {(a.TryGetProperty("url", out var url) ? url.GetString() : "(no url)")}"));
        // No firstReportedOn: the day of the earliest asserting evidence.
        Assert.Equal("2024-10-23", item.Str("datePublished"));
        Assert.Equal("https://media.example.org/austin", item.GetProperty("firstAppearance").Str("url"));
        Assert.Equal("CreativeWork", item.GetProperty("firstAppearance").Str("@type"));
        // The other assertion and the mention, earliest first; supporting evidence is no appearance of the claim.
        Assert.Equal(
            ["https://news.example.org/report", "https://gov.example.org/statement"],
            item.GetProperty("appearance").EnumerateArray().Select(a => a.Str("url")));
        Assert.Empty(ClaimReviewShape.Missing(review));
    }

    [Fact]
    public async Task AUkrainianClaimIsPublishedInUkrainianWithItsCyrillicStatementIntact()
    {
        var claim = await VerdictAsync(Story.UkrainianDesertion, "uk", "false");

        var response = await _client.GetAsync($"/claims/{claim}/claimreview");

        var review = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("uk", review.Str("inLanguage"));
        Assert.Equal(Story.UkrainianDesertion, review.Str("claimReviewed"));
        Assert.Equal("False", review.GetProperty("reviewRating").Str("alternateName"));
        Assert.Empty(ClaimReviewShape.Missing(review));
    }

    [Theory]
    [InlineData("unverified")]
    [InlineData("in_review")]
    public async Task AClaimWithoutAVerdictIs409NoVerdictYetSayingItsStatus(string status)
    {
        var claim = await VerdictAsync(Story.Hostages, "en", status);

        var response = await _client.GetAsync($"/claims/{claim}/claimreview");

        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("/problems/no-verdict-yet", problem.Str("type"));
        Assert.Equal("The claim has no verdict yet.", problem.Str("title"));
        Assert.Equal(
            $"The claim {claim} is {status}: a ClaimReview publishes a verdict (confirmed, false, disputed or inconclusive), and this claim has none yet.",
            problem.Str("detail"));
    }

    [Fact]
    public async Task AnUnknownClaimIs404Problem()
    {
        var id = Guid.NewGuid();

        var problem = await (await _client.GetAsync($"/claims/{id}/claimreview")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("/problems/not-found", problem.Str("type"));
        Assert.Equal($"There is no claim with id {id}.", problem.Str("detail"));
    }

    [Fact]
    public async Task TheDocumentDeclaresBothAnswersAsJsonLdAndTheNoVerdict409AsAProblem()
    {
        var paths = (await _client.ReadDocumentAsync()).GetProperty("paths");

        foreach (var (path, schema) in new[] { ("/claims/{id}/claimreview", "ClaimReview"), ("/claimreview", "ClaimReviewFeed") })
        {
            var content = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
            Assert.Equal(["application/ld+json"], content.EnumerateObject().Select(m => m.Name));
            Assert.Equal($"#/components/schemas/{schema}", content.GetProperty("application/ld+json").GetProperty("schema").Str("$ref"));
        }

        var conflict = paths.GetProperty("/claims/{id}/claimreview").GetProperty("get").GetProperty("responses").GetProperty("409")
            .GetProperty("content").GetProperty("application/problem+json");
        Assert.Equal("/problems/no-verdict-yet", conflict.GetProperty("examples").GetProperty("no-verdict-yet").GetProperty("value").Str("type"));
    }

    // ---- The validator ----

    [Fact]
    public void TheValidatorNamesEveryPropertyAHandMadeIncompleteReviewLacks()
    {
        using var document = JsonDocument.Parse(
            """
            {
              "@context": "https://schema.org",
              "@type": "ClaimReview",
              "claimReviewed": "",
              "reviewRating": { "@type": "Rating", "ratingValue": 7, "bestRating": 5, "worstRating": 1 },
              "itemReviewed": { "@type": "Claim", "author": [{ "@type": "Robot" }] },
              "author": { "@type": "Organization", "name": "Kyiv Fact Desk" },
              "url": "/claims/1"
            }
            """);

        var missing = ClaimReviewShape.Missing(document.RootElement);

        Assert.Equal(
            [
                "claimReviewed (required) is empty",
                "url (required) is not an absolute http(s) URL",
                "reviewRating.alternateName (required) is missing",
                "reviewRating.name (recommended) is missing",
                "reviewRating.ratingValue (recommended) is outside worstRating..bestRating",
                "itemReviewed.author[0].@type (recommended) is not Person or Organization",
                "itemReviewed.author[0].name (recommended) is missing",
                "itemReviewed.datePublished (recommended) is missing",
                "itemReviewed.firstAppearance or appearance (recommended) is missing",
                "publisher (schema.org) is missing",
                "datePublished (recommended) is missing",
                "inLanguage (schema.org) is missing",
            ],
            missing);
    }

    // ---- GET /claimreview ----

    [Fact]
    public async Task TheFeedPagesEveryVerdictOldestFirstWithACursorFromUpdatedSinceAndLeavesTheRestOut()
    {
        var confirmed = await VerdictAsync(Story.Training, "en", "confirmed");
        var since = await DatePublishedAsync(confirmed);
        var falseClaim = await VerdictAsync(Story.Deserted, "en", "false");
        var uncounted = await VerdictAsync(Story.Hostages, "en", "in_review");
        var ukrainian = await VerdictAsync(Story.UkrainianDesertion, "uk", "inconclusive");
        var withdrawn = await VerdictAsync(Story.Troops, "en", "disputed");
        var revised = await VerdictAsync(Story.Bennett, "en", "inconclusive");
        // Back in review: no verdict to publish any more. Revised: published once, with its new verdict.
        await _client.SetStatusAsync(withdrawn, "in_review", null);
        await _client.SetStatusAsync(revised, "disputed", "Two credible sources now contradict each other.");
        var url = $"/claimreview?limit=2&updatedSince={Uri.EscapeDataString(since.ToString("O"))}";

        var pages = await _client.ReadPagesAsync(url, maxPages: 5, itemsProperty: "dataFeedElement");

        Assert.Equal(2, pages.Count);
        Assert.All(pages, page =>
        {
            Assert.Equal("https://schema.org", page.Str("@context"));
            Assert.Equal("DataFeed", page.Str("@type"));
        });
        var elements = pages.SelectMany(p => p.GetProperty("dataFeedElement").EnumerateArray()).ToList();
        Assert.Equal(
            [$"{confirmed} True", $"{falseClaim} False", $"{ukrainian} Unproven", $"{revised} Disputed"],
            elements.Select(e => $"{e.Str("url")[^36..]} {e.GetProperty("reviewRating").Str("alternateName")}"));
        Assert.DoesNotContain(elements, e => e.Str("url").EndsWith(uncounted.ToString(), StringComparison.Ordinal));
        Assert.All(elements, e => Assert.Empty(ClaimReviewShape.Missing(e)));
        Assert.Equal(Story.UkrainianDesertion, elements[2].Str("claimReviewed"));

        // A harvester that stored the first two asks from the second's verdict on: it gets it again, then the rest.
        var harvest = await (await _client.GetAsync(
            $"/claimreview?updatedSince={Uri.EscapeDataString(elements[1].Str("datePublished"))}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(
            [falseClaim, ukrainian, revised],
            harvest.GetProperty("dataFeedElement").EnumerateArray().Select(e => Guid.Parse(e.Str("url")[^36..])));
        Assert.Equal(JsonValueKind.Null, harvest.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task TheFeedIsLinkedDataWithALinkToItsNextPageAndRefusesACursorOfAnotherUpdatedSince()
    {
        var first = await VerdictAsync(Story.Training, "en", "disputed");
        await VerdictAsync(Story.Deserted, "en", "disputed");
        var since = Uri.EscapeDataString((await DatePublishedAsync(first)).ToString("O"));

        var response = await _client.GetAsync($"/claimreview?limit=1&updatedSince={since}");

        var page = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        var cursor = page.Str("nextCursor");
        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.Contains($"cursor={Uri.EscapeDataString(cursor)}", link, StringComparison.Ordinal);
        Assert.EndsWith("rel=\"next\"", link, StringComparison.Ordinal);

        var other = await _client.GetAsync($"/claimreview?limit=1&cursor={Uri.EscapeDataString(cursor)}");
        var problem = await other.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Not a cursor this API issued for this query", problem.Errors("cursor")[0], StringComparison.Ordinal);
    }

    private Task<Guid> VerdictAsync(string statement, string language, string status) => _client.VerdictAsync(statement, language, status);

    private async Task<DateTimeOffset> DatePublishedAsync(Guid claim) =>
        (await (await _client.GetAsync($"/claims/{claim}/claimreview")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("datePublished").GetDateTimeOffset();

    private Task<Guid> SourceAsync(string name, string kind, string? url) => _client.SourceWithUrlAsync(name, kind, url);

    private Task<Guid> ClaimAsync(string statement, string language, string? firstReportedOn, params object[] evidence) =>
        _client.ClaimInLanguageAsync(statement, language, firstReportedOn, evidence);

    private static object Evidence(Guid sourceId, string stance, string? url, string? publishedAt) => ClaimReviewStory.Evidence(sourceId, stance, url, publishedAt);
}

/// <summary>Without Publisher settings the API names itself, and bad settings stop start-up.</summary>
public sealed class ClaimReviewDefaultsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task WithoutPublisherSettingsTheReviewIsByTheClaimsDeskAndPointsAtTheApisOwnClaim()
    {
        using var client = api.CreateClient();
        var claim = await client.VerdictAsync(Story.Deserted, "en", "disputed");

        var review = await (await client.GetAsync($"/claims/{claim}/claimreview")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal($"http://localhost/claims/{claim}", review.Str("url"));
        Assert.Equal("Claims desk", review.GetProperty("publisher").Str("name"));
        Assert.Equal("http://localhost/", review.GetProperty("publisher").Str("url"));
        Assert.Equal("Claims desk", review.GetProperty("author").Str("name"));
        Assert.Empty(ClaimReviewShape.Missing(review));
    }

    [Theory]
    [InlineData("Publisher:ReviewUrlPattern", "https://factcheck.example.org/claims", "Publisher:ReviewUrlPattern must be an absolute http or https URL with {id}")]
    [InlineData("Publisher:ReviewUrlPattern", "/claims/{id}", "Publisher:ReviewUrlPattern must be an absolute http or https URL with {id}")]
    [InlineData("Publisher:Url", "factcheck.example.org", "Publisher:Url must be an absolute http or https URL.")]
    [InlineData("Publisher:Name", " ", "Publisher:Name must be 1 to 200 characters.")]
    public void ABadPublisherSettingStopsStartUpSayingWhatItMustBe(string setting, string value, string message)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Claims", api.ConnectionString);
            b.UseSetting(setting, value);
        });

        var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(message, failure.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>Claims with verdicts, logged and judged through the API.</summary>
internal static class ClaimReviewStory
{
    /// <summary>A claim asserted by a person (with urls and dates), mentioned and judged by an outlet, moved to <paramref name="status"/>.</summary>
    public static async Task<Guid> VerdictAsync(this HttpClient client, string statement, string language, string status)
    {
        var person = await client.SourceWithUrlAsync("Lloyd Austin", "person", "https://www.example.org/austin");
        var outlet = await client.SourceWithUrlAsync("Suspilne", "outlet", "https://suspilne.example.org/");
        var claim = await client.ClaimInLanguageAsync(statement, language, "2024-10-23",
            Evidence(person, "asserts", "https://media.example.org/austin", "2024-10-23T12:00:00Z"),
            Evidence(outlet, "mentions", "https://suspilne.example.org/report", "2024-10-24T07:00:00Z"),
            Evidence(outlet, status == "false" ? "refutes" : "supports", null, null));
        if (status != "unverified")
        {
            await client.SetStatusAsync(claim, status, status == "in_review" ? null : $"The newsroom's verdict: {status}.");
        }

        return claim;
    }

    public static async Task<Guid> SourceWithUrlAsync(this HttpClient client, string name, string kind, string? url) =>
        (await (await client.PostAsJsonAsync("/sources", new { name, kind, url, reliability = "B" })).ReadJsonAsync(HttpStatusCode.Created)).Id();

    public static async Task<Guid> ClaimInLanguageAsync(this HttpClient client, string statement, string language, string? firstReportedOn, params object[] evidence) =>
        (await (await client.PostAsJsonAsync("/claims", new { statement, language, firstReportedOn, evidence })).ReadJsonAsync(HttpStatusCode.Created)).Id();

    public static object Evidence(Guid sourceId, string stance, string? url, string? publishedAt) =>
        new { sourceId, stance, quote = "there is evidence", url, publishedAt };
}

/// <summary>
/// The properties of a ClaimReview that Google's fact-check guidance requires (claimReviewed,
/// reviewRating.alternateName, url) and recommends (author, datePublished, itemReviewed with its
/// author, datePublished and appearances, the rating's scale and name), and the schema.org ones
/// the API adds (@context, @type, publisher, inLanguage). Names what is missing, so a failure says it.
/// </summary>
internal static class ClaimReviewShape
{
    public static List<string> Missing(JsonElement review)
    {
        var missing = new List<string>();
        Expect(review, "@context", "schema.org", v => v.ValueKind == JsonValueKind.String && v.GetString() == "https://schema.org", "is not https://schema.org", missing);
        Expect(review, "@type", "schema.org", v => v.ValueKind == JsonValueKind.String && v.GetString() == "ClaimReview", "is not ClaimReview", missing);
        Text(review, "claimReviewed", "required", missing);
        Expect(review, "url", "required", v => v.ValueKind == JsonValueKind.String && IsHttpUrl(v.GetString()!), "is not an absolute http(s) URL", missing);

        if (Expect(review, "reviewRating", "required", v => v.ValueKind == JsonValueKind.Object, "is not an object", missing) is { } rating)
        {
            Text(rating, "alternateName", "required", missing, "reviewRating.");
            Text(rating, "name", "recommended", missing, "reviewRating.");
            var numbers = new[] { "ratingValue", "bestRating", "worstRating" }
                .Select(name => Expect(rating, name, "recommended", v => v.ValueKind == JsonValueKind.Number, "is not a number", missing, "reviewRating."))
                .ToArray();
            if (numbers.All(n => n is not null)
                && !(numbers[2]!.Value.GetDouble() <= numbers[0]!.Value.GetDouble() && numbers[0]!.Value.GetDouble() <= numbers[1]!.Value.GetDouble()))
            {
                missing.Add("reviewRating.ratingValue (recommended) is outside worstRating..bestRating");
            }
        }

        if (Expect(review, "itemReviewed", "recommended", v => v.ValueKind == JsonValueKind.Object, "is not an object", missing) is { } claim)
        {
            Expect(claim, "@type", "recommended", v => v.ValueKind == JsonValueKind.String && v.GetString() == "Claim", "is not Claim", missing, "itemReviewed.");
            if (Expect(claim, "author", "recommended", v => v.ValueKind is JsonValueKind.Array or JsonValueKind.Object, "is not a Person or Organization", missing, "itemReviewed.") is { } authors)
            {
                var list = authors.ValueKind == JsonValueKind.Array ? authors.EnumerateArray().ToList() : [authors];
                for (var i = 0; i < list.Count; i++)
                {
                    Party(list[i], $"itemReviewed.author[{i}].", missing);
                }
            }

            Expect(claim, "datePublished", "recommended", v => v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), System.Globalization.CultureInfo.InvariantCulture, out _), "is not a date", missing, "itemReviewed.");
            var works = new[] { "firstAppearance", "appearance" }
                .Where(name => claim.TryGetProperty(name, out _))
                .SelectMany(name => claim.GetProperty(name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().ToList() : [claim.GetProperty(name)])
                .ToList();
            if (works.Count == 0)
            {
                missing.Add("itemReviewed.firstAppearance or appearance (recommended) is missing");
            }
            else if (works.Any(w => !(w.TryGetProperty("url", out var url) && IsHttpUrl(url.GetString() ?? ""))))
            {
                missing.Add("itemReviewed.firstAppearance or appearance (recommended) has a work without an absolute url");
            }
        }

        foreach (var (name, source) in new[] { ("author", "recommended"), ("publisher", "schema.org") })
        {
            if (Expect(review, name, source, v => v.ValueKind == JsonValueKind.Object, "is not an Organization", missing) is { } party)
            {
                Party(party, name + ".", missing);
            }
        }

        Expect(review, "datePublished", "recommended", v => v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), System.Globalization.CultureInfo.InvariantCulture, out _), "is not a date", missing);
        Text(review, "inLanguage", "schema.org", missing);
        return missing;
    }

    private static void Party(JsonElement party, string path, List<string> missing)
    {
        Expect(party, "@type", "recommended", v => v.GetString() is "Person" or "Organization", "is not Person or Organization", missing, path);
        Text(party, "name", "recommended", missing, path);
    }

    private static void Text(JsonElement parent, string name, string source, List<string> missing, string path = "") =>
        Expect(parent, name, source, v => v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString()), "is empty", missing, path);

    private static JsonElement? Expect(JsonElement parent, string name, string source, Func<JsonElement, bool> valid, string otherwise, List<string> missing, string path = "")
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            missing.Add($"{path}{name} ({source}) is missing");
            return null;
        }

        if (!valid(value))
        {
            missing.Add($"{path}{name} ({source}) {otherwise}");
            return null;
        }

        return value;
    }

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
