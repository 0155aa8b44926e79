using Claims.Api.Webhooks;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>The SSRF rules for webhook URLs, with the production default: no private networks, https only.</summary>
public sealed class WebhookUrlTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _admin = api.CreateClient();

    [Theory]
    [InlineData("https://127.0.0.1/hook", "127.0.0.1")]
    [InlineData("https://localhost:8443/hook", "localhost")]
    [InlineData("https://10.20.30.40/hook", "10.20.30.40")]
    [InlineData("https://172.16.0.9/hook", "172.16.0.9")]
    [InlineData("https://192.168.1.1/hook", "192.168.1.1")]
    [InlineData("https://169.254.169.254/latest/meta-data", "169.254.169.254")]
    [InlineData("https://100.64.0.1/hook", "100.64.0.1")]
    [InlineData("https://[::1]/hook", "::1")]
    [InlineData("https://[fd00::5]/hook", "fd00::5")]
    [InlineData("https://[fe80::1]/hook", "fe80::1")]
    [InlineData("https://[::ffff:10.0.0.1]/hook", "10.0.0.1")]
    [InlineData("https://0.0.0.0/hook", "0.0.0.0")]
    [InlineData("https://224.0.0.1/hook", "224.0.0.1")]
    public async Task AURLThatReachesAPrivateAddressIsRefusedWithA400ProblemAndNothingIsStored(string url, string named)
    {
        var problem = await (await _admin.PostAsJsonAsync("/webhooks", new { url })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("/problems/webhook-url-refused", problem.Str("type"));
        Assert.Contains(named, problem.Str("detail"));
        Assert.Contains("not a public address", problem.Str("detail"));
        var list = await (await _admin.GetAsync("/webhooks?limit=200")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(url, list);
    }

    [Fact]
    public async Task PlainHttpIsRefusedEvenToAPublicAddress()
    {
        var problem = await (await _admin.PostAsJsonAsync("/webhooks", new { url = "http://93.184.215.14/hook" })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("/problems/webhook-url-refused", problem.Str("type"));
        Assert.Contains("must be https", problem.Str("detail"));
    }

    [Fact]
    public async Task AUrlWithCredentialsIsRefused()
    {
        var problem = await (await _admin.PostAsJsonAsync("/webhooks", new { url = "https://user:pass@93.184.215.14/hook" })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("/problems/webhook-url-refused", problem.Str("type"));
        Assert.Contains("user name or password", problem.Str("detail"));
    }

    [Fact]
    public async Task APublicHttpsAddressIsAccepted()
    {
        var created = await (await _admin.PostAsJsonAsync("/webhooks", new { url = "https://93.184.215.14/hook" })).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal("https://93.184.215.14/hook", created.GetProperty("webhook").Str("url"));
    }

    [Fact]
    public async Task EachDeliveryChecksTheAddressAgainSoThatAHostThatNowResolvesInsideIsNeverCalled()
    {
        await using var receiver = new WebhookReceiver();
        var inside = receiver.NewUrl();
        var created = await (await _admin.PostAsJsonAsync("/webhooks", new { url = "https://93.184.215.14/hook", claimId = Guid.NewGuid() }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("webhook").Id();
        // As if its DNS now answered with a loopback address: the same host name, pointed inside.
        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("UPDATE webhooks SET url = @url WHERE id = @id", connection);
            command.Parameters.AddWithValue("url", inside.Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
            command.Parameters.AddWithValue("id", id);
            await command.ExecuteNonQueryAsync();
        }

        await (await _admin.PostAsync($"/webhooks/{id}/test", null)).ReadJsonAsync(HttpStatusCode.Accepted);

        for (var i = 0; ; i++)
        {
            var delivery = (await (await _admin.GetAsync($"/webhooks/{id}/deliveries")).ReadJsonAsync(HttpStatusCode.OK)).Items().Single();
            if (delivery.GetProperty("attemptLog").GetArrayLength() > 0)
            {
                var attempt = delivery.GetProperty("attemptLog")[0];
                Assert.Equal(JsonValueKind.Null, attempt.GetProperty("statusCode").ValueKind);
                Assert.Contains("not a public address", attempt.Str("error"));
                Assert.Equal("pending", delivery.Str("status"));
                break;
            }

            Assert.True(i < 150, $"No attempt was recorded within 15 s: {delivery}");
            await Task.Delay(100);
        }

        Assert.Empty(receiver.ReceivedAt(inside));
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("93.184.215.14", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("100.128.0.1", true)]
    [InlineData("127.1.2.3", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.0.1", false)]
    [InlineData("169.254.1.1", false)]
    [InlineData("100.127.255.255", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("239.1.1.1", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fdff::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:192.168.0.1", false)]
    public void OnlyPublicAddressesArePublic(string address, bool expected) =>
        Assert.Equal(expected, UrlGuard.IsPublic(IPAddress.Parse(address)));
}
