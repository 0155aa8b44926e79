using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Claims.Benchmarks;

public static partial class DataGenerator
{
    /// <summary>
    /// The columns generate writes, table by table (the others take their defaults in both loads), and the
    /// uuid that splits a table into parts.
    /// </summary>
    private static readonly (string Table, string Columns, string SplitBy)[] CopiedColumns =
    [
        ("sources", "id, name, kind, description, url, reliability, created_at, updated_at, version, created_by", "id"),
        ("claims", ClaimColumns, "id"),
        ("claim_similarity_keys", "key, claim_id", "claim_id"),
        ("claim_status_changes", "id, claim_id, from_status, to_status, note, changed_at, changed_by", "id"),
        ("evidence", "id, claim_id, source_id, stance, quote, credibility, created_at, created_by", "id"),
    ];

    /// <summary>
    /// The load's physical limit, measured in the same run on the same rows: the server writes the rows
    /// just loaded to files of its own, the tables are emptied, the same keys and indexes dropped (and the
    /// filing trigger disabled: the filing rows are in the files too), and the server loads the files with
    /// COPY FROM a file: no client, no network, nothing to generate, no similarity keys to compute.
    /// The files are binary, the format generate sends and the cheapest for the server to read (the
    /// claims of a 100,000-claim load took 4.4 s from binary and 5.0 s from text). The files are loaded on
    /// as many connections as generate uses, each table split in as many parts, biggest first, so that
    /// every core is busy as it is for generate. Needs the rights of a superuser (or
    /// pg_read_server_files, pg_write_server_files and pg_execute_server_program).
    /// </summary>
    private static string CompareWithServerCopy(NpgsqlDataSource db, int claims, Loaded generated, TextWriter output)
    {
        output.WriteLine("Measuring the server's own COPY of the same rows from files...");
        // In the server's temporary folder, which it writes and reads itself: the client may be elsewhere.
        var prefix = $"/tmp/claims-copy-{Guid.NewGuid():N}";
        var files = new List<(string Table, string Columns, string Path, long Bytes)>();
        try
        {
            using (var connection = db.OpenConnection())
            {
                foreach (var (table, columns, splitBy) in CopiedColumns)
                {
                    var parts = table == "sources" ? 1 : Connections;
                    for (var part = 0; part < parts; part++)
                    {
                        var path = $"{prefix}-{table}-{part}.bin";
                        Execute(connection, $"COPY (SELECT {columns} FROM {table} WHERE get_byte(uuid_send({splitBy}), 15) % {parts} = {part}) TO '{path}' (FORMAT BINARY)");
                        using var size = new NpgsqlCommand($"SELECT (pg_stat_file('{path}')).size", connection);
                        files.Add((table, columns, path, (long)size.ExecuteScalar()!));
                    }
                }

                Execute(connection, $"TRUNCATE {string.Join(", ", Tables)}");
            }

            var dropped = DropForLoad(db);
            var loaded = false;
            var rows = 0L;
            var clock = new Stopwatch();
            try
            {
                Checkpoint(db);
                var jobs = files.Select(f => new Job(Path.GetFileName(f.Path), f.Table, f.Bytes, connection =>
                {
                    using var copy = new NpgsqlCommand($"COPY {f.Table} ({f.Columns}) FROM '{f.Path}' (FORMAT BINARY)", connection) { CommandTimeout = 0 };
                    Interlocked.Add(ref rows, copy.ExecuteNonQuery());
                })).ToList();
                clock.Start();
                RunJobs(db, Connections, jobs);
                clock.Stop();
                loaded = true;
            }
            finally
            {
                Restore(db, dropped, analyze: loaded, TextWriter.Null);
            }

            if (rows != generated.Rows)
            {
                throw new InvalidOperationException($"The server's COPY loaded {rows:N0} rows where generate had loaded {generated.Rows:N0}.");
            }

            var generateRate = claims / generated.Took.TotalSeconds;
            var copyRate = claims / clock.Elapsed.TotalSeconds;
            var ratio = generateRate / copyRate;
            return string.Create(CultureInfo.InvariantCulture,
                $"Bulk load (`generate --claims {claims} --versus-copy`, {DateTime.UtcNow:yyyy-MM-dd}): generate {generateRate:N0} claims/s ({generated.Rows:N0} rows in {generated.Took.TotalSeconds:F1} s, "
                + $"binary COPY from this process on {Connections} connections) vs the server's own COPY of the same rows from files ({files.Sum(f => f.Bytes) / 1e6:N0} MB, binary, "
                + $"{Connections} connections, the same keys and indexes dropped) {copyRate:N0} claims/s ({clock.Elapsed.TotalSeconds:F1} s): "
                + $"ratio {ratio:F2} (target ≥ 0.70: {(ratio >= 0.70 ? "met" : "**not met**")}).");
        }
        finally
        {
            RemoveServerFiles(db, prefix, output);
        }
    }

    private static void RemoveServerFiles(NpgsqlDataSource db, string prefix, TextWriter output)
    {
        try
        {
            using var connection = db.OpenConnection();
            // The server made the files, so the server removes them: the client may not see its /tmp.
            Execute(connection, $"COPY (SELECT) TO PROGRAM 'rm -f {prefix}-*'");
        }
        catch (PostgresException e)
        {
            output.WriteLine($"Remove {prefix}-* on the database server: {e.MessageText}");
        }
    }

    /// <summary>Writes out the dirty pages now, so that the load measured next does not pay for an earlier one's.</summary>
    private static void Checkpoint(NpgsqlDataSource db)
    {
        using var connection = db.OpenConnection();
        Execute(connection, "CHECKPOINT");
    }
}
