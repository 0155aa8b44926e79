using System.Net.Http.Headers;

namespace Claims.Tests.Infrastructure;

/// <summary>Reads answers as raw JSON, so tests check what a client really receives.</summary>
public static class HttpAssertions
{
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected} {expected}, got {(int)response.StatusCode} {response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with the given status and returns its body.</summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.ReadJsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("title").GetString()));
        return body;
    }

    /// <summary>The messages a validation problem gives for one field; fails when the field has none.</summary>
    public static string[] Errors(this JsonElement problem, string field)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors), $"No 'errors' in problem: {problem}");
        Assert.True(errors.TryGetProperty(field, out var messages), $"No error for '{field}' in: {errors}");
        return [.. messages.EnumerateArray().Select(m => m.GetString()!)];
    }

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string body, string contentType = "application/json") =>
        client.PostAsync(url, new StringContent(body, new MediaTypeHeaderValue(contentType)));

    public static Task<HttpResponseMessage> PutRawAsync(this HttpClient client, string url, string body) =>
        client.PutAsync(url, new StringContent(body, new MediaTypeHeaderValue("application/json")));

    public static string Str(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    public static Guid Id(this JsonElement element) => element.GetProperty("id").GetGuid();

    /// <summary>Counts per stance, as evidenceCounts and independentOrigins give them.</summary>
    public static void AssertCounts(JsonElement counts, int asserts = 0, int supports = 0, int refutes = 0, int unableToVerify = 0, int mentions = 0) =>
        Assert.Equal(
            (asserts, supports, refutes, unableToVerify, mentions),
            (counts.GetProperty("asserts").GetInt32(), counts.GetProperty("supports").GetInt32(), counts.GetProperty("refutes").GetInt32(),
             counts.GetProperty("unableToVerify").GetInt32(), counts.GetProperty("mentions").GetInt32()));
}
