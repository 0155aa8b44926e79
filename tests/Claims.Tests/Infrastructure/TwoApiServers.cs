namespace Claims.Tests.Infrastructure;

/// <summary>
/// Two API processes on one database of their own, as two instances behind one address; a
/// fixture derives from it to say which settings they run with and what each must log before
/// the tests start.
/// </summary>
public abstract class TwoApiServers(string readyWhenLogged, IReadOnlyDictionary<string, string>? settings = null) : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public ApiServer A { get; private set; } = null!;

    public ApiServer B { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.CreateAsync();
        var a = ApiServer.StartAsync(ConnectionString, settings);
        var b = ApiServer.StartAsync(ConnectionString, settings);
        try
        {
            await Task.WhenAll(a, b);
        }
        catch
        {
            foreach (var started in new[] { a, b }.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        (A, B) = (a.Result, b.Result);
        await A.WaitForOutputAsync(readyWhenLogged, TimeSpan.FromSeconds(30));
        await B.WaitForOutputAsync(readyWhenLogged, TimeSpan.FromSeconds(30));
    }

    public virtual async Task DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }

        if (B is not null)
        {
            await B.DisposeAsync();
        }

        await TestDatabase.DropAsync(ConnectionString);
    }
}
