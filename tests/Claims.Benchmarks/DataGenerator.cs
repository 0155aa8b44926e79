using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Claims.Api.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Claims.Benchmarks;

/// <summary>
/// Fills a database with N claims, N/10 sources and about 3N evidence rows through binary COPY.
/// Secondary indexes are dropped for the load and built again afterwards: building an index once
/// is far cheaper than maintaining it row by row.
/// </summary>
public static class DataGenerator
{
    /// <summary>Claim number n (1-based) has this id, so that pgbench scripts can pick random claims with md5(n::text)::uuid.</summary>
    public static Guid ClaimId(long n) => IdFrom("claim:" + n);

    public static Guid SourceId(long n) => IdFrom("source:" + n);

    private static Guid IdFrom(string text)
    {
        Span<byte> hash = stackalloc byte[16];
        MD5.HashData(Encoding.UTF8.GetBytes(text), hash);
        return new Guid(hash, bigEndian: true);
    }

    public static async Task RunAsync(string connectionString, int claims, TextWriter output)
    {
        Database.Migrate(connectionString, NullLogger.Instance);
        var sources = Math.Max(1, claims / 10);
        await using var db = new NpgsqlDataSourceBuilder(connectionString).Build();

        output.WriteLine($"Generating {claims:N0} claims, {sources:N0} sources and ~{claims * 3L:N0} evidence rows...");
        var indexes = await DropSecondaryIndexesAsync(db);
        var total = Stopwatch.StartNew();

        var load = Stopwatch.StartNew();
        await CopySourcesAsync(db, sources);
        // Two streams, one per core: PostgreSQL computes each claim's tsvector on the way in.
        var streams = Environment.ProcessorCount >= 2 ? 2 : 1;
        var counts = await Task.WhenAll(Enumerable.Range(0, streams).Select(s =>
            CopyClaimsAsync(db, first: 1 + (long)claims * s / streams, last: (long)claims * (s + 1) / streams, sources)));
        load.Stop();
        var evidence = counts.Sum();
        var rows = sources + claims * 2L + evidence;
        output.WriteLine($"Loaded {rows:N0} rows in {load.Elapsed.TotalSeconds:F1} s: {claims / load.Elapsed.TotalSeconds:N0} claims/s, {rows / load.Elapsed.TotalSeconds:N0} rows/s.");

        var build = Stopwatch.StartNew();
        await RecreateIndexesAsync(db, indexes);
        await using (var connection = await db.OpenConnectionAsync())
        {
            await using var analyze = new NpgsqlCommand("ANALYZE sources; ANALYZE claims; ANALYZE evidence; ANALYZE claim_status_changes;", connection);
            analyze.CommandTimeout = 0;
            await analyze.ExecuteNonQueryAsync();
        }

        build.Stop();
        output.WriteLine($"Rebuilt {indexes.Count} indexes and analyzed in {build.Elapsed.TotalSeconds:F1} s. Total {total.Elapsed.TotalSeconds:F1} s ({claims / total.Elapsed.TotalSeconds:N0} claims/s end to end).");
    }

    private static async Task<List<(string Name, string Definition)>> DropSecondaryIndexesAsync(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var indexes = new List<(string, string)>();
        await using (var query = new NpgsqlCommand(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname
            JOIN pg_index x ON x.indexrelid = c.oid
            WHERE i.schemaname = 'public' AND i.tablename IN ('claims', 'evidence', 'sources', 'claim_status_changes')
              AND NOT x.indisprimary AND NOT x.indisunique
            """, connection))
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (name, _) in indexes)
        {
            await using var drop = new NpgsqlCommand($"DROP INDEX {name}", connection);
            await drop.ExecuteNonQueryAsync();
        }

        return indexes;
    }

    private static async Task RecreateIndexesAsync(NpgsqlDataSource db, List<(string Name, string Definition)> indexes)
    {
        // Two at a time: one per core.
        using var gate = new SemaphoreSlim(2);
        await Task.WhenAll(indexes.Select(async index =>
        {
            await gate.WaitAsync();
            try
            {
                await using var connection = await db.OpenConnectionAsync();
                await using var create = new NpgsqlCommand($"SET maintenance_work_mem = '256MB'; {index.Definition}", connection) { CommandTimeout = 0 };
                await create.ExecuteNonQueryAsync();
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static async Task CopySourcesAsync(NpgsqlDataSource db, int count)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY sources (id, name, kind, description, url, reliability, created_at, updated_at, version, created_by) FROM STDIN (FORMAT BINARY)");
        var random = new Random(17);
        var start = DateTime.UtcNow.AddYears(-2);
        for (var n = 1; n <= count; n++)
        {
            var at = start.AddMinutes(random.Next(0, 2 * 365 * 24 * 60));
            await writer.StartRowAsync();
            await writer.WriteAsync(SourceId(n), NpgsqlDbType.Uuid);
            await writer.WriteAsync($"{Words.Pick(random, Words.SourceNames)} {n}", NpgsqlDbType.Text);
            await writer.WriteAsync(Words.Pick(random, Words.SourceKinds), NpgsqlDbType.Text);
            await writer.WriteAsync("Generated source for the benchmark.", NpgsqlDbType.Text);
            await writer.WriteNullAsync();
            await writer.WriteAsync(Words.Pick(random, Words.Reliabilities), NpgsqlDbType.Text);
            await writer.WriteAsync(at, NpgsqlDbType.TimestampTz);
            await writer.WriteAsync(at, NpgsqlDbType.TimestampTz);
            await writer.WriteAsync(1, NpgsqlDbType.Integer);
            await writer.WriteAsync("benchmark", NpgsqlDbType.Text);
        }

        await writer.CompleteAsync();
    }

    /// <summary>Claims first..last with their history row and evidence, on one connection; answers the evidence count.</summary>
    private static async Task<long> CopyClaimsAsync(NpgsqlDataSource db, long first, long last, int sources)
    {
        var random = new Random((int)first);
        var start = DateTime.UtcNow.AddYears(-2);
        var span = (long)(DateTime.UtcNow - start).TotalSeconds;
        var generated = new List<(Guid Id, DateTime At, string Status, string? Note, int Evidence)>();

        await using var connection = await db.OpenConnectionAsync();
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY claims (id, statement, summary, language, tags, first_reported_on, status, status_note, created_at, updated_at, version, created_by) FROM STDIN (FORMAT BINARY)"))
        {
            for (var n = first; n <= last; n++)
            {
                var (statement, language) = Words.Statement(random);
                var created = start.AddSeconds(random.NextInt64(span));
                var updated = created.AddSeconds(random.Next(0, 3 * 24 * 3600));
                var status = Words.Status(random);
                var note = status is "unverified" or "in_review" ? null : "Generated verdict with its reason.";
                generated.Add((ClaimId(n), created, status, note, Words.EvidenceCount(random)));

                await writer.StartRowAsync();
                await writer.WriteAsync(ClaimId(n), NpgsqlDbType.Uuid);
                await writer.WriteAsync(statement, NpgsqlDbType.Text);
                if (random.Next(3) == 0)
                {
                    await writer.WriteAsync("Summary: " + Words.Pick(random, Words.Summaries), NpgsqlDbType.Text);
                }
                else
                {
                    await writer.WriteNullAsync();
                }

                await writer.WriteAsync(language, NpgsqlDbType.Text);
                await writer.WriteAsync(Words.Tags(random), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await writer.WriteAsync(DateOnly.FromDateTime(created.AddDays(-random.Next(0, 5))), NpgsqlDbType.Date);
                await writer.WriteAsync(status, NpgsqlDbType.Text);
                if (note is null)
                {
                    await writer.WriteNullAsync();
                }
                else
                {
                    await writer.WriteAsync(note, NpgsqlDbType.Text);
                }

                await writer.WriteAsync(created, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(updated, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(1, NpgsqlDbType.Integer);
                await writer.WriteAsync("benchmark", NpgsqlDbType.Text);
            }

            await writer.CompleteAsync();
        }

        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY claim_status_changes (id, claim_id, from_status, to_status, note, changed_at, changed_by) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var claim in generated)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(Guid.CreateVersion7(claim.At), NpgsqlDbType.Uuid);
                await writer.WriteAsync(claim.Id, NpgsqlDbType.Uuid);
                await writer.WriteNullAsync();
                await writer.WriteAsync("unverified", NpgsqlDbType.Text);
                await writer.WriteAsync("Logged.", NpgsqlDbType.Text);
                await writer.WriteAsync(claim.At, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync("benchmark", NpgsqlDbType.Text);
            }

            await writer.CompleteAsync();
        }

        long evidence = 0;
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY evidence (id, claim_id, source_id, stance, quote, credibility, created_at, created_by) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var claim in generated)
            {
                for (var i = 0; i < claim.Evidence; i++)
                {
                    // A verdict rests on its evidence: a confirmed claim has a 'supports' item, a false one a 'refutes'.
                    var stance = i == 0 && claim.Status == "confirmed" ? "supports"
                        : i == 0 && claim.Status == "false" ? "refutes"
                        : Words.Pick(random, Words.Stances);
                    await writer.StartRowAsync();
                    await writer.WriteAsync(Guid.CreateVersion7(claim.At), NpgsqlDbType.Uuid);
                    await writer.WriteAsync(claim.Id, NpgsqlDbType.Uuid);
                    await writer.WriteAsync(SourceId(1 + random.Next(sources)), NpgsqlDbType.Uuid);
                    await writer.WriteAsync(stance, NpgsqlDbType.Text);
                    await writer.WriteAsync(Words.Pick(random, Words.Quotes), NpgsqlDbType.Text);
                    await writer.WriteAsync((short)random.Next(1, 7), NpgsqlDbType.Smallint);
                    await writer.WriteAsync(claim.At, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync("benchmark", NpgsqlDbType.Text);
                    evidence++;
                }
            }

            await writer.CompleteAsync();
        }

        return evidence;
    }
}
