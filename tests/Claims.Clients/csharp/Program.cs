using System.Reflection;
using System.Runtime.Serialization;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Tour.Client;
using Tour.Client.Models;

// The seed-story tour through the client Kiota generated into Client/: one line per step on
// standard output, in the same words as the TypeScript tour, so that one test reads both. The
// first step that goes otherwise ends the tour with its reason and exit code 1.
if (args is not [var baseUrl, var apiKey])
{
    Console.Error.WriteLine("usage: Tour <base url of the API> <API key>");
    return 2;
}

try
{
    await TourSteps.RunAsync(baseUrl, apiKey);
    return 0;
}
catch (TourFailed failure)
{
    Console.Error.WriteLine($"tour failed: {failure.Message}");
    return 1;
}
catch (ProblemDetails problem)
{
    Console.Error.WriteLine($"tour failed: {problem.ResponseStatusCode} {problem.Type} {problem.Title} {problem.Detail}");
    return 1;
}
catch (ApiException other)
{
    // An answer whose body the document does not type: Kiota has only the status.
    Console.Error.WriteLine($"tour failed: {other.ResponseStatusCode} {other.Message}");
    return 1;
}

/// <summary>The steps of the tour, each through the generated client.</summary>
internal static class TourSteps
{
    private const int PageSize = 3;
    private const int MostPages = 100;

    public static async Task RunAsync(string baseUrl, string apiKey)
    {
        var client = Connect(baseUrl, apiKey);

        var source = Must(await client.Sources.PostAsync(new SourceRequest
        {
            Name = "South Korea's National Intelligence Service",
            Kind = SourceKind.Government,
            Reliability = Reliability.B,
            Description = "South Korea's spy agency, which first said North Korean troops were on their way to Russia.",
        }), "the new source");
        var sourceId = Must(source.Id, "the source's id");
        Console.WriteLine($"source: {source.Name} ({Wire(Must(source.Kind, "the source's kind"))}, {Wire(Must(source.Reliability, "the source's reliability"))}), version {source.Version}");

        var claim = Must(await client.Claims.PostAsync(new CreateClaimRequest
        {
            Statement = "North Korea has sent about 1,500 special forces soldiers to Russia.",
            Language = "en",
            Tags = ["north-korea", "russia"],
            FirstReportedOn = new Date(2024, 10, 18),
            Evidence = [new EvidenceRequest { SourceId = sourceId, Stance = Stance.Asserts, Quote = "about 1,500 special forces soldiers", Credibility = 2 }],
        }), "the new claim");
        var claimId = Must(claim.Id, "the claim's id");
        Console.WriteLine($"claim: {claim.Statement} ({Wire(Must(claim.Status, "the claim's status"))}, version {claim.Version}, {Must(claim.Evidence, "the claim's evidence").Count} evidence item)");

        // Confirming needs supporting evidence: the 409 arrives as the document's problem type.
        try
        {
            await Confirm(client, claimId, Must(claim.Version, "the claim's version"));
            throw new TourFailed("confirming a claim without supporting evidence was accepted");
        }
        catch (ProblemDetails problem) when (problem.ResponseStatusCode == 409)
        {
            Console.WriteLine($"refused: {problem.ResponseStatusCode} {problem.Type} {problem.Title}");
        }

        var supporters = Must(await client.Sources.GetAsync(request => request.QueryParameters.Q = "US government"), "the source search");
        var government = Must(supporters.Items, "the found sources").Find(s => s.Name == "US government")
            ?? throw new TourFailed("the seed story's source 'US government' was not found");
        var support = Must(await client.Claims[claimId].Evidence.PostAsync(new EvidenceRequest
        {
            SourceId = Must(government.Id, "the source's id"),
            Stance = Stance.Supports,
            Quote = "There is evidence that there are DPRK troops in Russia.",
            Credibility = 2,
        }), "the new evidence");
        // Adding evidence moved the claim to a new version; the claim's answer says which.
        var supported = Must(await client.Claims[claimId].GetAsync(), "the claim");
        var version = Must(supported.Version, "the claim's version");
        Console.WriteLine($"supported: {Must(support.Source, "the evidence's source").Name} {Wire(Must(support.Stance, "the evidence's stance"))}, claim version {version}");

        var confirmed = await Confirm(client, claimId, version);
        Console.WriteLine($"confirmed: {Wire(Must(confirmed.Status, "the new status"))}, with If-Match {ETag(version)}");

        var status = Must(await client.Claims[claimId].Status.GetAsync(), "the status");
        var counts = Must(status.EvidenceCounts, "the evidence counts");
        Console.WriteLine($"status: {Wire(Must(status.Status, "the status"))}, {counts.Asserts} asserts, {counts.Supports} supports");

        var history = Must(await client.Claims[claimId].History.GetAsync(), "the history");
        var moves = Must(history.Items, "the history's entries")
            // Kiota reads fromStatus, an enumeration or null, as the wire string (see the README).
            .Select(change => $"{change.FromStatus ?? "null"} -> {Wire(Must(change.ToStatus, "a new status"))}");
        Console.WriteLine($"history: {string.Join(", ", moves)}");

        var (claims, pages) = await CountClaimsAsync(client);
        Console.WriteLine($"paged: {claims} claims in {pages} pages");

        try
        {
            await Connect(baseUrl, "not-a-key").Claims.GetAsync();
            throw new TourFailed("a wrong API key was accepted");
        }
        catch (ProblemDetails problem) when (problem.ResponseStatusCode == 401)
        {
            Console.WriteLine($"unauthorized: {problem.ResponseStatusCode} {problem.Type} {problem.Title}");
        }
    }

    /// <summary>
    /// Kiota's ApiKeyAuthenticationProvider refuses plain http, which the API speaks on loopback
    /// here, so the key rides on the HttpClient that Kiota's factory builds (with its retry and
    /// redirect handlers); over https the provider would do the same job.
    /// </summary>
    private static ClaimsClient Connect(string baseUrl, string apiKey)
    {
        var http = KiotaClientFactory.Create();
        http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return new ClaimsClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = baseUrl.TrimEnd('/') });
    }

    /// <summary>
    /// Kiota has no typed header parameters: If-Match goes in by name. Its value is the claim's
    /// version in quotes, which the claim's typed body gives, so no response header is read.
    /// </summary>
    private static async Task<ClaimStatusView> Confirm(ClaimsClient client, Guid claimId, int version) =>
        Must(await client.Claims[claimId].Status.PutAsync(
            new StatusChangeRequest { Status = ClaimStatus.Confirmed, Note = "The US government backs South Korea's account." },
            request => request.Headers.Add("If-Match", ETag(version))), "the changed status");

    private static string ETag(int version) => $"\"{version}\"";

    /// <summary>Every claim, a page at a time with the cursor of the one before, up to <see cref="MostPages"/> pages.</summary>
    private static async Task<(int Claims, int Pages)> CountClaimsAsync(ClaimsClient client)
    {
        string? cursor = null;
        var claims = 0;
        for (var pages = 1; pages <= MostPages; pages++)
        {
            var page = Must(await client.Claims.GetAsync(request =>
            {
                request.QueryParameters.Limit = PageSize;
                request.QueryParameters.Cursor = cursor;
            }), "a page of claims");
            claims += Must(page.Items, "the page's claims").Count;
            cursor = page.NextCursor;
            if (cursor is null)
            {
                return (claims, pages);
            }
        }

        throw new TourFailed($"GET /claims still had a next page after {MostPages} pages");
    }

    /// <summary>The value as the API sends it: Kiota keeps it in the enum member's EnumMember attribute.</summary>
    private static string Wire<T>(T value)
        where T : struct, Enum =>
        typeof(T).GetField(value.ToString())?.GetCustomAttribute<EnumMemberAttribute>()?.Value ?? value.ToString();

    // Kiota makes every property nullable, whatever the document requires.
    private static T Must<T>(T? value, string what)
        where T : class =>
        value ?? throw new TourFailed($"{what} is missing from the answer");

    private static T Must<T>(T? value, string what)
        where T : struct =>
        value ?? throw new TourFailed($"{what} is missing from the answer");
}

/// <summary>A step of the tour that went otherwise than the story says.</summary>
internal sealed class TourFailed(string message) : Exception(message);
