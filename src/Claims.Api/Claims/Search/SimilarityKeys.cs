using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Claims.Api.Claims;

/// <summary>
/// The keys under which a statement is filed for the near-duplicate look-up: locality-sensitive
/// hashing (MinHash bands) over the statement's trigrams, the same trigrams pg_trgm's similarity()
/// compares. The share of MinHash values two statements have in common estimates their similarity(),
/// and a key is a band of <see cref="Rows"/> such values, so two statements share a given key with
/// probability similarity^Rows: near-duplicates share several of their <see cref="Bands"/> keys,
/// unrelated statements almost never one. The look-up reads only the claims filed under the probe's
/// keys and ranks them by similarity() itself (<see cref="SimilarClaims"/>).
/// </summary>
/// <remarks>
/// The keys are stored, so this function is part of the data: a change to the trigrams, the hash or
/// the bands needs a migration that sets claims.similarity_keys to NULL, and the backfill then files
/// every claim again.
/// </remarks>
public static class SimilarityKeys
{
    /// <summary>MinHash values per band: the higher, the fewer unrelated claims share a key.</summary>
    public const int Rows = 3;

    /// <summary>Keys per statement: the more, the likelier a near-duplicate shares one.</summary>
    public const int Bands = 42;

    private const int Hashes = Rows * Bands;

    // Hashes rounded up to whole vectors of any width (2, 4 or 8 lanes); the padding's minima go unused.
    private const int Padded = 128;

    // A multiply-shift permutation of an already mixed value: cheap, and as good as a fresh hash here.
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;

    // Fixed odd multipliers drawn once: the keys must come out the same in every process and version.
    private static readonly ulong[] Seeds = MakeSeeds();

    /// <summary>The statement's keys, distinct and ascending; empty for a statement without letters or digits.</summary>
    public static long[] For(string statement)
    {
        var trigrams = ArrayPool<ulong>.Shared.Rent(3 * statement.Length + 2);
        try
        {
            var count = Trigrams(statement, trigrams);
            if (count == 0)
            {
                return [];
            }

            // Every hash of a trigram at once, a vector of them at a time: one hash at a time cost the
            // benchmark's generate 66 µs a claim, most of its CPU.
            Span<ulong> minima = stackalloc ulong[Padded];
            minima.Fill(ulong.MaxValue);
            var least = MemoryMarshal.Cast<ulong, Vector<ulong>>(minima);
            var seeds = MemoryMarshal.Cast<ulong, Vector<ulong>>(Seeds.AsSpan());
            var multiplier = new Vector<ulong>(Multiplier);
            foreach (var trigram in trigrams.AsSpan(0, count))
            {
                var spread = new Vector<ulong>(trigram);
                for (var v = 0; v < least.Length; v++)
                {
                    var value = (spread ^ seeds[v]) * multiplier;
                    least[v] = Vector.Min(least[v], value ^ Vector.ShiftRightLogical(value, 29));
                }
            }

            var keys = new long[Bands];
            for (var band = 0; band < Bands; band++)
            {
                var key = Mix((ulong)band + 1);
                for (var row = 0; row < Rows; row++)
                {
                    key = Mix(key ^ minima[band * Rows + row]);
                }

                keys[band] = (long)key;
            }

            Array.Sort(keys);
            var distinct = 1;
            for (var i = 1; i < keys.Length; i++)
            {
                if (keys[i] != keys[distinct - 1])
                {
                    keys[distinct++] = keys[i];
                }
            }

            return distinct == keys.Length ? keys : keys[..distinct];
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(trigrams);
        }
    }

    /// <summary>
    /// The keys of many statements as parameters of one statement: a parameter cannot be an array
    /// of arrays of different lengths, so they go in one flat array with a stride of
    /// <see cref="Bands"/>, the lengths in another; <see cref="Slice"/> takes them apart in SQL.
    /// </summary>
    public static (long[] Flat, int[] Lengths) ForMany(IReadOnlyList<string> statements)
    {
        var flat = new long[statements.Count * Bands];
        var lengths = new int[statements.Count];
        for (var i = 0; i < statements.Count; i++)
        {
            var keys = For(statements[i]);
            keys.CopyTo(flat, i * Bands);
            lengths[i] = keys.Length;
        }

        return (flat, lengths);
    }

    /// <summary>SQL for the keys of the <paramref name="ordinal"/>th statement (from 1) of <see cref="ForMany"/>.</summary>
    public static string Slice(string flat, string ordinal, string length) =>
        $"{flat}[({ordinal} - 1) * {Bands} + 1 : ({ordinal} - 1) * {Bands} + {length}]";

    /// <summary>
    /// pg_trgm's trigrams, hashed, distinct: the text lower-cased, cut into words of letters and
    /// digits, each word padded with two spaces before and one after, every three characters in a row.
    /// </summary>
    private static int Trigrams(string statement, ulong[] into)
    {
        var count = 0;
        var text = statement.AsSpan();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            var start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                continue;
            }

            // The padded word is "  w ": its trigrams run from "  a" to "yz ".
            ulong a = ' ', b = ' ';
            for (var j = start; j <= i; j++)
            {
                ulong c = j < i ? char.ToLower(text[j], CultureInfo.InvariantCulture) : ' ';
                into[count++] = Mix(a | (b << 16) | (c << 32));
                (a, b) = (b, c);
            }
        }

        Array.Sort(into, 0, count);
        var distinct = 0;
        for (var j = 0; j < count; j++)
        {
            if (distinct == 0 || into[j] != into[distinct - 1])
            {
                into[distinct++] = into[j];
            }
        }

        return distinct;
    }

    // SplitMix64's finalizer.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong[] MakeSeeds()
    {
        var seeds = new ulong[Padded];
        var state = 0x5EED_0013UL;
        for (var h = 0; h < Hashes; h++)
        {
            state += 0x9E3779B97F4A7C15UL;
            seeds[h] = Mix(state) | 1;
        }

        return seeds;
    }
}
