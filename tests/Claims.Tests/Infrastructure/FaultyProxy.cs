using System.Net;
using System.Net.Sockets;

namespace Claims.Tests.Infrastructure;

/// <summary>How <see cref="FaultyProxy"/> treats the connections through it.</summary>
public enum ProxyMode
{
    /// <summary>Forwards every byte both ways.</summary>
    Pass,

    /// <summary>
    /// A database that stops answering: connections stay open and new ones are accepted, but no
    /// byte moves either way until the proxy passes again (then what was held is delivered, as
    /// after a network partition heals).
    /// </summary>
    Stall,

    /// <summary>Resets every open connection, and every new one as soon as it is accepted.</summary>
    Drop,

    /// <summary>A database that has gone: open connections are reset and connecting is refused.</summary>
    Refuse,
}

/// <summary>
/// A TCP proxy on loopback between the API and PostgreSQL that a test switches between passing
/// and failing in the ways a database fails as seen from the network.
/// </summary>
public sealed class FaultyProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly HashSet<Link> _links = [];
    private readonly List<Task> _work = [];
    private readonly CancellationTokenSource _disposed = new();
    private TcpListener? _listener;
    private TaskCompletionSource _flowing = Completed();
    private ProxyMode _mode = ProxyMode.Pass;

    public FaultyProxy(string host, int port)
    {
        var address = IPAddress.TryParse(host, out var parsed) ? parsed : Dns.GetHostAddresses(host).FirstOrDefault(IPAddress.IsLoopback);
        if (address is null || !IPAddress.IsLoopback(address))
        {
            throw new InvalidOperationException(
                $"The fault tests put a proxy between the API and PostgreSQL on loopback only, and the test server is {host}:{port}. " +
                $"Run them against the private server (leave {TestDatabase.ConnectionVariable} empty) or a server on 127.0.0.1.");
        }

        _target = new IPEndPoint(address, port);
        Port = Listen(0);
    }

    /// <summary>The loopback port to connect to instead of the server's.</summary>
    public int Port { get; }

    public ProxyMode Mode
    {
        get
        {
            lock (_gate)
            {
                return _mode;
            }
        }
    }

    /// <summary>Rewrites a connection string to go through the proxy.</summary>
    public string Route(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    public void Pass() => Switch(ProxyMode.Pass);

    public void Stall() => Switch(ProxyMode.Stall);

    public void Drop() => Switch(ProxyMode.Drop);

    public void Refuse() => Switch(ProxyMode.Refuse);

    private void Switch(ProxyMode mode)
    {
        List<Link> cut = [];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            _mode = mode;
            if (mode is ProxyMode.Drop or ProxyMode.Refuse)
            {
                cut.AddRange(_links);
                _links.Clear();
            }

            if (mode == ProxyMode.Refuse)
            {
                _listener?.Stop();
                _listener = null;
            }
            else if (_listener is null)
            {
                Listen(Port);
            }

            if (mode == ProxyMode.Stall)
            {
                if (_flowing.Task.IsCompleted)
                {
                    _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }

        // Cut before letting held bytes go, so that nothing a stalled link held (a COMMIT, say)
        // reaches the server after the link was dropped.
        foreach (var link in cut)
        {
            link.Reset();
        }

        if (mode != ProxyMode.Stall)
        {
            lock (_gate)
            {
                _flowing.TrySetResult();
            }
        }
    }

    private int Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        // The same port again after Refuse, while closed connections may linger in TIME_WAIT.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _work.Add(AcceptAsync(listener));
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_disposed.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (Mode == ProxyMode.Drop)
            {
                Abort(client);
                continue;
            }

            lock (_gate)
            {
                _work.Add(ConnectAsync(client));
            }
        }
    }

    private async Task ConnectAsync(Socket client)
    {
        var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(_target, _disposed.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Abort(client);
            Abort(server);
            return;
        }

        client.NoDelay = server.NoDelay = true;
        var link = new Link(client, server);
        lock (_gate)
        {
            if (_mode is ProxyMode.Drop or ProxyMode.Refuse || _disposed.IsCancellationRequested)
            {
                link.Reset();
                return;
            }

            _links.Add(link);
        }

        try
        {
            await Task.WhenAll(PumpAsync(client, server, link), PumpAsync(server, client, link));
        }
        finally
        {
            lock (_gate)
            {
                _links.Remove(link);
            }

            link.Close();
        }
    }

    /// <summary>Moves bytes one way; while stalled, holds what it read until the proxy passes again.</summary>
    private async Task PumpAsync(Socket from, Socket to, Link link)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, link.Cut);
                Task flowing;
                lock (_gate)
                {
                    flowing = _flowing.Task;
                }

                await flowing.WaitAsync(link.Cut);
                link.Cut.ThrowIfCancellationRequested();
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, link.Cut);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side failed or the link was cut: the other side learns it the same way.
            link.Reset();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Link> cut;
        Task[] work;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
            _listener?.Stop();
            _listener = null;
            cut = [.. _links];
            _links.Clear();
            _flowing.TrySetResult();
            work = [.. _work];
        }

        foreach (var link in cut)
        {
            link.Reset();
        }

        try
        {
            await Task.WhenAll(work).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException("The proxy's connections did not end within 10 s of disposing it.");
        }

        _disposed.Dispose();
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    /// <summary>Closes with a reset (RST) rather than a FIN: the peer sees the connection break.</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }

    private sealed class Link(Socket client, Socket server)
    {
        private readonly CancellationTokenSource _cut = new();
        private int _closed;

        public CancellationToken Cut => _cut.Token;

        public void Reset()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                _cut.Cancel();
                Abort(client);
                Abort(server);
            }
        }

        /// <summary>After both directions ended by themselves.</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                _cut.Cancel();
                client.Dispose();
                server.Dispose();
            }
        }
    }
}
