namespace Claims.Tests.Infrastructure;

/// <summary>The checkout the tests were built from: the folder above the test binaries that holds Claims.sln.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootFolder = new(() =>
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Claims.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Claims.sln above {AppContext.BaseDirectory}: run the tests from a checkout of the repository.");
    });

    public static string Root => RootFolder.Value;

    /// <summary>A path inside the checkout, such as <c>Folder("tests", "Claims.Clients")</c>.</summary>
    public static string Folder(params string[] parts) => Path.Combine([Root, .. parts]);
}
