using System.Text.Json;

namespace Claims.Tests.Infrastructure;

/// <summary>Reads the RateLimit header fields, and waits out the end of a shared window where a test must not straddle two.</summary>
public static class RateLimitFields
{
    /// <summary>
    /// The RateLimit field as a structured-field list: each item a quoted policy name with integer
    /// parameters, such as <c>"requests";r=4;t=60</c>.
    /// </summary>
    public static Dictionary<string, Dictionary<string, int>> Items(HttpResponseMessage response) =>
        Assert.Single(response.Headers.TryGetValues("RateLimit", out var values) ? values : []).Split(',').Select(item => item.Trim().Split(';')).ToDictionary(
            parts => Assert.IsType<string>(JsonSerializer.Deserialize<string>(parts[0])),
            parts => parts[1..].Select(p => p.Split('=')).ToDictionary(kv => kv[0], kv => int.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// Shared windows are the database clock's minutes, the same for every caller. A test that
    /// counts a whole quota waits, when fewer than <paramref name="needed"/> seconds are left, for
    /// the next minute, so that the quota it counts is not refilled halfway. Asked with a key of
    /// its own (<paramref name="probe"/>), which spends nothing of the key under test.
    /// </summary>
    public static async Task AtLeastLeftInTheMinuteAsync(HttpClient probe, int needed = 20)
    {
        var response = await probe.GetAsync("/claims?limit=1");
        await response.ReadJsonAsync(System.Net.HttpStatusCode.OK);
        var left = Items(response)["requests"]["t"];
        if (left < needed)
        {
            await Task.Delay(TimeSpan.FromSeconds(left + 1));
        }
    }
}
