using System.Collections.Concurrent;
using Claims.Hostile;
using Claims.Tests.Infrastructure;
using CsCheck;
using Xunit.Abstractions;

namespace Claims.Tests;

/// <summary>
/// Property: whatever a client sends, built from the OpenAPI document itself (ids, query
/// parameters, headers and bodies, right and wrong), the API never answers 5xx, and answers only
/// with a status the document lists for that operation.
/// </summary>
public sealed class FuzzTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    /// <summary>A few hundred requests, well under a minute; FUZZ_ITER=5000 explores further when hunting (the benchmark's fuzz verb sends 100,000).</summary>
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITER"), out var n) ? n : 500;

    [Fact]
    public async Task NoGeneratedRequestIsAnsweredWith5xxOrWithAStatusItsOperationDoesNotDocument()
    {
        var admin = api.CreateClient();
        var document = await (await admin.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
        var known = await OpenApiFuzz.PrepareAsync(admin, api.AdminKey);
        var operations = OpenApiFuzz.Operation.All(document);
        Assert.True(operations.Count >= 20, $"The document lists only {operations.Count} operations.");
        var raw = api.CreateClient(null, sendCurrentETag: false);
        var seen = new ConcurrentDictionary<string, ConcurrentBag<int>>();

        await OpenApiFuzz.Requests(document, known)
            .SampleAsync(
                async request =>
                {
                    using var message = request.ToMessage(known);
                    var (response, text) = await OpenApiFuzz.SendAsync(raw, message);
                    using var answer = response;
                    var status = (int)response.StatusCode;
                    seen.GetOrAdd(request.Operation, _ => []).Add(status);
                    var violation = OpenApiFuzz.Violation(request, status, response.Content.Headers.ContentType?.MediaType, text);
                    Assert.True(violation is null, violation);
                },
                iter: Iterations, threads: 4, print: r => r.ToString());

        foreach (var (operation, answers) in seen.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{operation}: {string.Join(", ", answers.GroupBy(a => a).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"))}");
        }

        // The generators reached every operation, and got through to success as well as to refusals.
        Assert.Equal(operations.Select(o => o.Name).Order(), seen.Keys.Order());
        var statuses = seen.Values.SelectMany(s => s).ToHashSet();
        Assert.Contains(statuses, s => s is >= 200 and < 300);
        Assert.Contains(400, statuses);
        Assert.Contains(404, statuses);
        Assert.Contains(401, statuses);
    }
}
