namespace Claims.Tests.Infrastructure;

/// <summary>
/// The app in process with a webhook receiver on loopback: private networks allowed, retries
/// after 0.2 s (three of them), polls every 0.1 s; a derived fixture overrides any setting.
/// </summary>
public abstract class WebhookApp(IReadOnlyDictionary<string, string>? settings = null) : IAsyncLifetime
{
    public ApiFactory Api { get; } = new();

    public WebhookReceiver Receiver { get; } = new();

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)Api).InitializeAsync();
        Api.Settings["Webhooks:AllowPrivateNetworks"] = "true";
        Api.Settings["Webhooks:RetrySchedule"] = "0.2,0.2,0.2";
        Api.Settings["Webhooks:PollSeconds"] = "0.1";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            Api.Settings[key] = value;
        }
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)Api).DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
