using Claims.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Claims.Tests.Desk;

/// <summary>
/// The browser tests' own machinery, proven on pages that exist without the desk: Chromium opens
/// the served Swagger UI, the accessibility check passes and fails where it must, screenshots are
/// written, and Korean text is drawn with a font that has its glyphs.
/// </summary>
public sealed class BrowserSmokeTests(DeskBrowser desk) : IClassFixture<DeskBrowser>
{
    [Fact]
    public async Task ChromiumRendersTheServedSwaggerUiWithTheApiTitleAndSavesItAsAPng()
    {
        await using var context = await desk.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync("/swagger/index.html");

        Assert.Equal(200, response?.Status);
        // Swagger UI writes the title from the fetched OpenAPI document, so its script ran.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Claims API");
        await Expect(page).ToHaveTitleAsync("Claims API");

        var path = await page.SaveScreenshotAsync("smoke-swagger");

        Assert.Equal(Path.Combine(PageChecks.ScreenshotFolder, "smoke-swagger.png"), path);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        Assert.True(bytes.Length > 10_000, $"{path} is {bytes.Length} bytes: a blank page?");
    }

    [Fact]
    public async Task TheAccessibilityCheckPassesALabelledForm()
    {
        await using var context = await desk.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.SetContentAsync(SignInForm("<label for=\"key\">API key</label>"));

        await page.AssertAccessibleAsync("a labelled form");
    }

    [Fact]
    public async Task TheAccessibilityCheckFailsAnUnlabelledInputNamingTheRuleAndTheElement()
    {
        await using var context = await desk.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.SetContentAsync(SignInForm(""));

        var failure = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => page.AssertAccessibleAsync("an unlabelled form"));

        Assert.StartsWith("an unlabelled form (about:blank) has 1 serious or critical accessibility violation(s) by axe-core 4.", failure.Message);
        Assert.Contains("- label (critical): Form elements must have labels <https://dequeuniversity.com/rules/axe/4.", failure.Message);
        Assert.Contains("    at #key", failure.Message);
    }

    [Fact]
    public async Task KoreanUkrainianAndRussianTextRoundTripsAndHangulIsDrawnWithAKoreanFont()
    {
        const string korean = "사실확인";
        const string ukrainian = "Перевірка фактів: ґанок, їжак, є";
        const string russian = "Проверка фактов: ёж, щука, ъ";
        await using var context = await desk.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.SetContentAsync($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Scripts</title></head>
            <body><p id="ko" lang="ko">{korean}</p><p id="uk" lang="uk">{ukrainian}</p><p id="ru" lang="ru">{russian}</p></body></html>
            """);

        Assert.Equal(korean, await page.Locator("#ko").InnerTextAsync());
        Assert.Equal(ukrainian, await page.Locator("#uk").InnerTextAsync());
        Assert.Equal(russian, await page.Locator("#ru").InnerTextAsync());

        // Text that no installed font covers still round-trips, drawn as empty boxes; what
        // Chromium reports having drawn the Hangul with shows whether a Korean font was there.
        var drawnWith = await RenderingFontsAsync(context, page, "#ko");
        var koreanFonts = await KoreanFontFamiliesAsync();
        Assert.True(drawnWith.Length > 0 && drawnWith.All(koreanFonts.Contains),
            $"Hangul was drawn with [{string.Join(", ", drawnWith)}], which fontconfig does not list for Korean ([{string.Join(", ", koreanFonts)}]): apt-get install fonts-noto-cjk.");
    }

    [Fact]
    public async Task ContextsShareNoCookiesAndCarryTheirViewportLocaleAndTimeZone()
    {
        await using var desktop = await desk.NewContextAsync();
        await using var phone = await desk.NewPhoneContextAsync(locale: "uk-UA", timezone: "Asia/Seoul");
        var onDesktop = await desktop.NewPageAsync();
        var onPhone = await phone.NewPageAsync();
        foreach (var page in new[] { onDesktop, onPhone })
        {
            // A page of the server's origin, for its cookies. A phone lays out a page that does not
            // declare its viewport 980 pixels wide, so this one declares it, as the desk must.
            await page.GotoAsync("/health/live");
            await page.SetContentAsync("""<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><title>Probe</title>""");
        }

        await onDesktop.EvaluateAsync("() => { document.cookie = 'desk-probe=1; path=/'; }");

        // Noon UTC in January is 14:00 in Kyiv and 21:00 in Seoul. (ICU names Kyiv's zone by its
        // old spelling, so the hour says more than the name.)
        const string Settings = "() => [innerWidth, navigator.language, new Date('2025-01-15T12:00:00Z').getHours(), document.cookie].join(' | ')";
        Assert.Equal("1280 | en-US | 14 | desk-probe=1", await onDesktop.EvaluateAsync<string>(Settings));
        Assert.Equal("390 | uk-UA | 21 | ", await onPhone.EvaluateAsync<string>(Settings));
    }

    [Fact]
    public async Task KeysOfEachRoleAreMintedWithThatRoleAndAuthenticate()
    {
        foreach (var role in DeskBrowser.Roles)
        {
            var key = await desk.CreateKeyAsync(role);

            using var client = desk.Server.CreateClient(key);
            await (await client.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
            // Only an admin may list the keys, and no lesser role may create a source.
            var keys = await client.GetAsync("/admin/keys?limit=1");
            Assert.Equal(role == "admin" ? HttpStatusCode.OK : HttpStatusCode.Forbidden, keys.StatusCode);
            var source = await client.PostAsJsonAsync("/sources", new { });
            Assert.Equal(role == "reader" ? HttpStatusCode.Forbidden : HttpStatusCode.BadRequest, source.StatusCode);
        }
    }

    private static string SignInForm(string label) => $"""
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
        <body><main><h1>Sign in</h1><form>{label}<input id="key" type="password"><button type="submit">Sign in</button></form></main></body></html>
        """;

    /// <summary>The font families Chromium used for the text of the element <paramref name="selector"/> finds, through the DevTools protocol.</summary>
    private static async Task<string[]> RenderingFontsAsync(IBrowserContext context, IPage page, string selector)
    {
        var session = await context.NewCDPSessionAsync(page);
        await session.SendAsync("DOM.enable");
        await session.SendAsync("CSS.enable");
        var document = (await session.SendAsync("DOM.getDocument"))!.Value;
        var node = (await session.SendAsync("DOM.querySelector", new Dictionary<string, object>
        {
            ["nodeId"] = document.GetProperty("root").GetProperty("nodeId").GetInt32(),
            ["selector"] = selector,
        }))!.Value;
        var fonts = (await session.SendAsync("CSS.getPlatformFontsForNode", new Dictionary<string, object>
        {
            ["nodeId"] = node.GetProperty("nodeId").GetInt32(),
        }))!.Value;
        return [.. fonts.GetProperty("fonts").EnumerateArray().Select(f => f.Str("familyName"))];
    }

    /// <summary>The families fontconfig, which Chromium asks on Linux, says cover Korean.</summary>
    private static async Task<HashSet<string>> KoreanFontFamiliesAsync()
    {
        (int ExitCode, string Output) listed;
        try
        {
            listed = await ChildProcess.RunAsync("fc-list", [":lang=ko", "family"], Path.GetTempPath(), TimeSpan.FromSeconds(30));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("fc-list is missing: apt-get install fontconfig fonts-noto-cjk.", e);
        }

        var (exitCode, output) = listed;
        Assert.True(exitCode == 0, output);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany(line => line.Split(','))];
    }
}
