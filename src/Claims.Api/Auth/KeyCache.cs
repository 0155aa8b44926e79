using Microsoft.Extensions.Caching.Memory;

namespace Claims.Api.Auth;

/// <summary>
/// What this instance remembers of the keys it checked in the database, by the hex of their hash:
/// keys it found, so that a request costs no extra round trip for its key, and keys of the issued
/// shape it did not find, so that repeating a guess costs the database nothing. The two are kept
/// apart, so that a flood of guesses cannot push out real keys.
/// </summary>
public sealed class KeyCache : IDisposable
{
    /// <summary>
    /// How long a found key is trusted without asking the database again. Changes are notified
    /// (<see cref="KeyRevocationListener"/>), so this only bounds a change whose notification is
    /// lost, for example on a connection that died without a word.
    /// </summary>
    public static readonly TimeSpan KnownFor = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a key is remembered as unknown. This can never refuse a real key: secrets are 32
    /// random bytes, so a key minted later cannot be one that somebody sent before it existed. A
    /// revoked key stays revoked unless someone edits the row, which notifies and forgets it.
    /// </summary>
    public static readonly TimeSpan UnknownFor = TimeSpan.FromSeconds(5);

    /// <summary>At most this many unknown keys are remembered, a few MB; past it, guesses are looked up.</summary>
    public const int UnknownLimit = 10_000;

    private static readonly object Unknown = new();

    // Found keys are as many as the keys an admin minted and someone used in the last few seconds.
    private readonly MemoryCache _known = new(new MemoryCacheOptions());
    private readonly MemoryCache _unknown = new(new MemoryCacheOptions { SizeLimit = UnknownLimit });
    private readonly Lock _gate = new();
    private long _generation;
    private bool _listening;

    public static string KeyOf(byte[] hash) => Convert.ToHexStringLower(hash);

    public KeyIdentity? Known(string key) => _known.TryGetValue(key, out KeyIdentity? identity) ? identity : null;

    public bool IsUnknown(string key) => _unknown.TryGetValue(key, out _);

    /// <summary>Whether changes are being notified, so that found keys are kept.</summary>
    public bool IsListening => Volatile.Read(ref _listening);

    /// <summary>Read before a look-up and handed to <see cref="RememberKnown"/> or <see cref="RememberUnknown"/> after it.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Remembers a key that a look-up found, unless something changed since the look-up began.</summary>
    public void RememberKnown(string key, KeyIdentity identity, long generationBeforeLookUp)
    {
        lock (_gate)
        {
            // A look-up may have read the row before a revocation committed and come back after its
            // notification was handled: a notification since it began means its answer may be stale.
            // While nobody listens, nothing would tell this instance of a change, so it keeps nothing.
            if (_listening && generationBeforeLookUp == _generation)
            {
                _known.Set(key, identity, KnownFor);
            }
        }
    }

    /// <summary>Remembers a key that a look-up did not find, unless something changed since the look-up began.</summary>
    public void RememberUnknown(string key, long generationBeforeLookUp)
    {
        lock (_gate)
        {
            // Only a row edited by hand could turn a key from unknown to known, and its notice
            // forgets the key: the same race as above, the other way round.
            if (generationBeforeLookUp == _generation)
            {
                _unknown.Set(key, Unknown, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = UnknownFor });
            }
        }
    }

    /// <summary>Forgets one key, found or unknown: it was revoked, deleted or changed.</summary>
    public void Forget(string key)
    {
        lock (_gate)
        {
            _generation++;
            _known.Remove(key);
            _unknown.Remove(key);
        }
    }

    /// <summary>Forgets every key (the table was emptied).</summary>
    public void ForgetAll()
    {
        lock (_gate)
        {
            _generation++;
            _known.Clear();
            _unknown.Clear();
        }
    }

    /// <summary>
    /// The listener started or stopped listening. Either way, changes may have gone unnoticed in
    /// between, so the found keys are forgotten.
    /// </summary>
    public void SetListening(bool listening)
    {
        lock (_gate)
        {
            _generation++;
            _listening = listening;
            _known.Clear();
        }
    }

    public void Dispose()
    {
        _known.Dispose();
        _unknown.Dispose();
    }
}
