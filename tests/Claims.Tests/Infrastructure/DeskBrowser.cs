using Microsoft.Playwright;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// The desk as a journalist meets it: the built program on Kestrel (so the browser gets a real
/// http address), on a database of the class's own loaded with the seed story, and Debian's
/// Chromium, headless, driven by Playwright. Each test opens contexts of its own from it, which
/// share nothing (cookies, storage) with any other.
/// </summary>
public class DeskBrowser : IAsyncLifetime
{
    /// <summary>Names the Chromium executable when it is not at <see cref="DefaultChromium"/>.</summary>
    public const string ChromiumVariable = "CLAIMS_CHROMIUM";

    public const string DefaultChromium = "/usr/bin/chromium";

    /// <summary>The roles a key may have, least first.</summary>
    public static readonly IReadOnlyList<string> Roles = ["reader", "reporter", "editor", "admin"];

    private readonly IReadOnlyDictionary<string, string> _settings;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private int _keys;

    /// <summary>The server loads the seed story, which the journalist's tour searches.</summary>
    public DeskBrowser()
        : this(new Dictionary<string, string>())
    {
    }

    /// <summary>For a fixture that derives from this one: configuration keys and values for the server, over the seed-story default.</summary>
    protected DeskBrowser(IReadOnlyDictionary<string, string> settings)
    {
        _settings = new Dictionary<string, string>(settings) { ["Database:SeedWhenEmpty"] = settings.GetValueOrDefault("Database:SeedWhenEmpty", "true") };
    }

    public string ConnectionString { get; private set; } = "";

    public ApiServer Server { get; private set; } = null!;

    /// <summary>Where the desk is served; every context's BaseURL.</summary>
    public Uri Address => Server.Address;

    /// <summary>The launched Chromium, for what the helpers below do not cover.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started.");

    /// <summary>The Chromium the fixture launches: <c>CLAIMS_CHROMIUM</c>, or else Debian's.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } configured ? configured : DefaultChromium;

    public async Task InitializeAsync()
    {
        // Playwright's expectations retry until they hold or this passes (5 s by default): a
        // shared CI machine may take longer to render, and the waits end as soon as the page is right.
        Microsoft.Playwright.Assertions.SetDefaultExpectTimeout(15_000);

        // Fails before anything starts, so the fix is the first thing the reader sees.
        var chromium = ChromiumPath;
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException(
                $"Chromium is missing at {chromium}: apt-get install chromium, or set {ChromiumVariable} to a Chromium executable.");
        }

        ConnectionString = await TestDatabase.CreateAsync();
        var server = ApiServer.StartAsync(ConnectionString, _settings);
        var browser = LaunchAsync(chromium);
        try
        {
            await Task.WhenAll(server, browser);
        }
        catch
        {
            if (server.IsCompletedSuccessfully)
            {
                await server.Result.DisposeAsync();
            }

            await CloseBrowserAsync();
            await TestDatabase.DropAsync(ConnectionString);
            throw;
        }

        Server = server.Result;
    }

    /// <summary>
    /// A new context, isolated from every other, at a desktop size, in US English and Kyiv's time
    /// zone unless told otherwise; relative URLs go to the server. Dispose it at the end of the test.
    /// </summary>
    public Task<IBrowserContext> NewContextAsync(string locale = "en-US", string timezone = "Europe/Kyiv") =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Address.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            Locale = locale,
            TimezoneId = timezone,
        });

    /// <summary>As <see cref="NewContextAsync"/> on a phone: 390 × 844 CSS pixels at twice the density, touch, and the mobile viewport rules.</summary>
    public Task<IBrowserContext> NewPhoneContextAsync(string locale = "en-US", string timezone = "Europe/Kyiv") =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Address.ToString(),
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            HasTouch = true,
            Locale = locale,
            TimezoneId = timezone,
        });

    /// <summary>
    /// A new API key with <paramref name="role"/> (reader, reporter, editor or admin), minted
    /// through POST /admin/keys with the server's bootstrap admin key; returns its secret.
    /// </summary>
    public async Task<string> CreateKeyAsync(string role)
    {
        using var admin = Server.CreateClient(Server.AdminKey);
        var name = $"Desk {role} {Interlocked.Increment(ref _keys)}";
        var created = await (await admin.PostAsJsonAsync("/admin/keys", new { name, role })).ReadJsonAsync(HttpStatusCode.Created);
        return created.Str("key");
    }

    public async Task DisposeAsync()
    {
        await CloseBrowserAsync();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (ConnectionString.Length > 0)
        {
            await TestDatabase.DropAsync(ConnectionString);
        }
    }

    private async Task LaunchAsync(string chromium)
    {
        // The driver (Node.js and playwright-core) comes in the package and is copied beside the
        // tests; with an executable path it launches that browser and downloads nothing.
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Playwright passes --no-sandbox: CI and the developers' machines run as root, where
            // Chromium refuses to start with its sandbox. The pages are our own, on loopback.
            ChromiumSandbox = false,
            // Every host but loopback fails to resolve: the desk must work without the internet
            // (nothing from a CDN), and Chromium's own look-ups (accounts.google.com with each
            // new context) stay off the network.
            Args = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"],
        });
    }

    private async Task CloseBrowserAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
