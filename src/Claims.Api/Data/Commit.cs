using Npgsql;

namespace Claims.Api.Data;

/// <summary>
/// The COMMIT of a write failed without the server saying why (the connection broke, the
/// deadline passed): the server may have applied it or not. Answered 504, never 503, because a
/// 503 promises that nothing was changed.
/// </summary>
public sealed class CommitUnconfirmedException(Exception inner)
    : Exception("The database did not confirm the commit; the write may or may not be stored.", inner);

/// <summary>
/// How a request's transaction ends. Every write commits through <see cref="RunAsync"/>: until
/// COMMIT is sent, a failure leaves nothing behind (PostgreSQL rolls back a transaction whose
/// connection breaks), so only a COMMIT in flight has an unknown outcome, and this is the one
/// place that tells the two apart. Declared right after the transaction:
/// <c>await using var commit = Commit.For(transaction, ct);</c>
/// </summary>
public sealed class Commit : IAsyncDisposable
{
    private readonly NpgsqlTransaction _transaction;
    private readonly NpgsqlConnection _connection;
    private readonly CancellationToken _ct;
    private bool _sent;
    private Action? _committed;

    private Commit(NpgsqlTransaction transaction, CancellationToken ct)
    {
        _transaction = transaction;
        _connection = transaction.Connection!;
        _ct = ct;
    }

    public static Commit For(NpgsqlTransaction transaction, CancellationToken ct) => new(transaction, ct);

    /// <summary>The transaction this commits.</summary>
    public NpgsqlTransaction Transaction => _transaction;

    /// <summary>The transaction's connection.</summary>
    public NpgsqlConnection Connection => _connection;

    /// <summary>
    /// Runs <paramref name="action"/> once the server confirmed the COMMIT (never after a rollback,
    /// nor after an unconfirmed COMMIT): for work that must not start before the change is visible
    /// to other sessions, such as waking what reads it. It must be quick and must not throw.
    /// </summary>
    public void OnCommitted(Action action) => _committed += action;

    public async Task RunAsync()
    {
        // Not sent yet, so nothing can have been written: the ordinary deadline answer (503).
        _ct.ThrowIfCancellationRequested();
        _sent = true;
        try
        {
            await _transaction.CommitAsync(_ct);
        }
        catch (Exception e) when (e is OperationCanceledException or NpgsqlException and not PostgresException)
        {
            // A PostgresException is the server's own answer (a deferred constraint, a
            // serialization failure): the transaction did not commit, and the usual mapping holds.
            throw new CommitUnconfirmedException(e);
        }

        _committed?.Invoke();
    }

    /// <summary>
    /// A transaction left without committing (a refusal, an exception) is rolled back under the
    /// request's token. NpgsqlTransaction's own dispose sends its ROLLBACK without one, and on a
    /// database that stopped answering just then it waited out the command timeout and a
    /// cancellation: 5 s past that moment, measured.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // A broken connection has nothing to roll back: the server does it by itself. With the
        // token cancelled nothing can be sent under it; usually the command that saw the
        // cancellation broke the connection.
        if (_sent || _ct.IsCancellationRequested || _connection.FullState != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            await _transaction.RollbackAsync(_ct);
        }
        catch (Exception e) when (e is OperationCanceledException or NpgsqlException)
        {
            // The connection broke, so the server rolls back; the handler's own answer or
            // exception is what the client needs to see.
        }
    }
}
