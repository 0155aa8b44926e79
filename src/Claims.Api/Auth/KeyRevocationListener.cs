using Claims.Api.Data;
using Npgsql;

namespace Claims.Api.Auth;

/// <summary>
/// Listens for the database's notices of changed keys (db/0005_key_revocation.sql) and forgets
/// each such key at once, so that a key revoked on any instance, or by hand in SQL, is refused here
/// within moments rather than when its cache entry runs out. While it is not listening,
/// <see cref="KeyCache"/> keeps no found keys.
/// </summary>
public sealed class KeyRevocationListener(NpgsqlDataSource db, KeyCache cache, ILogger<KeyRevocationListener> logger)
    : NotificationListener(db, logger, Channel, Tag, "API key changes", "keys are checked in the database on every request")
{
    public const string Channel = "api_key_changed";

    /// <summary>Begins the listener's statements, so that pg_stat_activity shows which backend it is.</summary>
    public const string Tag = "/* Claims API key listener */";

    protected override void OnListening(bool listening) => cache.SetListening(listening);

    protected override void OnNotification(string payload)
    {
        if (payload.Length == 0)
        {
            cache.ForgetAll();
        }
        else
        {
            cache.Forget(payload.ToLowerInvariant());
        }
    }
}
