using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Claims.Api.Claims;
using Claims.Api.Data;
using Claims.Api.Validation;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// Fills an empty database with N claims, N/10 sources and about 3N evidence rows through binary COPY,
/// each claim with its similarity keys and the 42 rows that file it under them. Secondary indexes,
/// primary keys and foreign keys are dropped for the load and restored afterwards: building an index
/// once is far cheaper than maintaining it row by row, and a foreign key checked by one join is far
/// cheaper than a trigger per row. For the same reason the trigger that files new claims is disabled
/// and the load writes the filing rows itself (<see cref="FilingTrigger"/>).
/// </summary>
public static partial class DataGenerator
{
    private const string ClaimColumns = "id, statement, summary, language, tags, first_reported_on, status, status_note, created_at, updated_at, version, created_by, similarity_keys";

    /// <summary>One claim in this many (of those that reword none) is reworded by the next one to five claims.</summary>
    private const int ClusterEvery = 20;

    /// <summary>Claims per COPY: small enough that the last one does not leave a core idle for long.</summary>
    private const int ChunkSize = 20_000;

    /// <summary>
    /// Connections that load, and then that build indexes: one per core, at most four, since each index
    /// build may take maintenance_work_mem on the server. A third connection and parallel B-tree builds
    /// (max_parallel_maintenance_workers) were both slower on two cores; both phases keep the cores
    /// busy already.
    /// </summary>
    private static readonly int Connections = Math.Clamp(Environment.ProcessorCount, 1, 4);

    private static readonly string[] Tables = ["sources", "claims", "evidence", "claim_status_changes", "claim_similarity_keys"];

    // What a load dropped, until it is back (RecoverInterrupted).
    private const string Record = "benchmark_dropped";

    /// <summary>
    /// The statement-level trigger that files the claims a COPY inserts, from its transition table, with
    /// one INSERT ... SELECT: row by row, each row logged on its own. Filing 100,000 claims that way cost
    /// the server 5.7 to 8.8 s of CPU on this machine, COPY of the same 4.2 million rows 1.6 to 1.9 s; so
    /// the load sends them, and only this trigger is disabled (any other stays in force).
    /// </summary>
    private const string FilingTrigger = "claims_file_inserted";

    /// <summary>Claim number n (1-based) has this id, so that pgbench scripts can pick random claims with md5(n::text)::uuid.</summary>
    public static Guid ClaimId(long n) => IdFrom("claim:"u8, n);

    public static Guid SourceId(long n) => IdFrom("source:"u8, n);

    // Formatted into a stack buffer rather than a string: the load hashes millions of these.
    private static Guid IdFrom(ReadOnlySpan<byte> prefix, long n)
    {
        Span<byte> text = stackalloc byte[prefix.Length + 20];
        prefix.CopyTo(text);
        n.TryFormat(text[prefix.Length..], out var digits, provider: CultureInfo.InvariantCulture);
        Span<byte> hash = stackalloc byte[16];
        MD5.HashData(text[..(prefix.Length + digits)], hash);
        return new Guid(hash, bigEndian: true);
    }

    /// <summary>
    /// A version 7 UUID for the instant, its random bits from the chunk's generator, so that a dataset is
    /// the same from run to run (and cheaper than the system's random source).
    /// </summary>
    private static Guid Version7(DateTime at, Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes, new DateTimeOffset(at).ToUnixTimeMilliseconds() << 16);
        random.NextBytes(bytes[6..]);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>
    /// What generate measured: how near-duplicate the data are, if asked the load against its physical
    /// limit, and its rates: the load's (keys and indexes dropped) and end to end (with their rebuild).
    /// </summary>
    public sealed record Figures(string Data, string? BulkLoad, double LoadClaimsPerSecond, double TotalClaimsPerSecond);

    /// <summary>
    /// Loads N claims and reports how near-duplicate they are. With <paramref name="versusCopy"/>, then
    /// measures the load against its physical limit (<see cref="CompareWithServerCopy"/>).
    /// </summary>
    public static Figures Run(string connectionString, int claims, TextWriter output, bool versusCopy = false)
    {
        Database.Migrate(connectionString, NullLogger.Instance);
        var sources = Math.Max(1, claims / 10);
        using var db = new NpgsqlDataSourceBuilder(connectionString).Build();

        output.WriteLine($"Generating {claims:N0} claims, {sources:N0} sources and ~{claims * 3L:N0} evidence rows...");
        var total = Stopwatch.StartNew();
        // Ctrl+C would end the process before the finally below puts the keys and indexes back: it
        // stops the load after the chunks in hand instead, and the restore runs to its end.
        using var stop = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            if (!stop.IsCancellationRequested)
            {
                output.WriteLine("Stopping the load; the keys and indexes are being put back...");
                stop.Cancel();
            }
        }

        Console.CancelKeyPress += OnCancel;
        RecoverInterrupted(db, output);
        var dropped = DropForLoad(db);
        var loaded = false;
        Loaded? load = null;
        try
        {
            if (versusCopy)
            {
                // Both loads start after a checkpoint, so that neither pays for the other's dirty pages.
                Checkpoint(db);
            }

            var clock = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var facts = new ClaimFacts[claims];
            var (evidence, filings, history) = Load(db, facts, sources, stop.Token);
            clock.Stop();
            load = new Loaded(sources + claims + history + evidence + filings, clock.Elapsed);
            output.WriteLine($"Loaded {load.Rows:N0} rows in {load.Took.TotalSeconds:F1} s: {claims / load.Took.TotalSeconds:N0} claims/s, {load.Rows / load.Took.TotalSeconds:N0} rows/s "
                + $"(this process used {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s of CPU, the rest is PostgreSQL's).");
            WriteNearDuplicates(db, facts);
            CountOrigins(db);
            loaded = true;
        }
        finally
        {
            // After a failed load too: the schema must be whole again, whatever the data.
            try
            {
                Restore(db, dropped, analyze: loaded, output);
            }
            catch (Exception e) when (!loaded)
            {
                // The load's failure is the one to report; this one says what is still missing.
                output.WriteLine($"Restoring the dropped indexes and keys failed too: {e.Message}");
            }
        }

        var endToEnd = claims / total.Elapsed.TotalSeconds;
        output.WriteLine($"Total {total.Elapsed.TotalSeconds:F1} s ({endToEnd:N0} claims/s end to end).");
        var data = NearDuplicates.Report(db);
        output.WriteLine(data);
        return new Figures(data, versusCopy ? CompareWithServerCopy(db, claims, load!, output) : null, claims / load!.Took.TotalSeconds, endToEnd);
    }

    /// <summary>
    /// Each claim's origin counts, which the API keeps with the evidence it writes and COPY leaves
    /// at their default: one pass over the evidence after the timed load, while the claims'
    /// indexes are still off. Generated evidence has no chains and its sources no relations, so an
    /// origin is a source.
    /// </summary>
    private static void CountOrigins(NpgsqlDataSource db)
    {
        using var connection = db.OpenConnection();
        Execute(connection,
            """
            UPDATE claims c SET origin_counts = x.counts
            FROM (SELECT e.claim_id,
                         ARRAY[count(DISTINCT e.source_id) FILTER (WHERE e.stance = 'asserts'),
                               count(DISTINCT e.source_id) FILTER (WHERE e.stance = 'supports'),
                               count(DISTINCT e.source_id) FILTER (WHERE e.stance = 'refutes'),
                               count(DISTINCT e.source_id) FILTER (WHERE e.stance = 'unable_to_verify'),
                               count(DISTINCT e.source_id) FILTER (WHERE e.stance = 'mentions')]::int[] AS counts
                  FROM evidence e GROUP BY e.claim_id) x
            WHERE c.id = x.claim_id
            """);
    }

    /// <summary>What a load wrote and how long it took.</summary>
    private sealed record Loaded(long Rows, TimeSpan Took);

    /// <summary>Which claim rewords which, for <see cref="NearDuplicates"/>; written after the load is timed.</summary>
    private static void WriteNearDuplicates(NpgsqlDataSource db, ClaimFacts[] facts)
    {
        using var connection = db.OpenConnection();
        Execute(connection, $"DROP TABLE IF EXISTS {NearDuplicates.Table}; CREATE TABLE {NearDuplicates.Table} (claim_id uuid NOT NULL, original_id uuid NOT NULL)");
        using (var writer = new BinaryCopy(connection, $"COPY {NearDuplicates.Table} (claim_id, original_id) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var claim in facts)
            {
                if (claim.Original > 0)
                {
                    writer.StartRow();
                    writer.Uuid(claim.Id);
                    writer.Uuid(facts[claim.Original - 1].Id);
                }
            }

            writer.Complete();
        }

        Execute(connection, $"ALTER TABLE {NearDuplicates.Table} ADD PRIMARY KEY (claim_id); ANALYZE {NearDuplicates.Table}");
    }

    private sealed record Constraint(string Table, string Name, string Definition);

    private sealed record Dropped(
        List<(string Table, string Name, string Definition)> Indexes, List<Constraint> PrimaryKeys, List<Constraint> ForeignKeys, List<(string Table, string Name)> Triggers);

    /// <summary>Reads the definitions and drops them in one transaction, so that none is lost half way.</summary>
    private static Dropped DropForLoad(NpgsqlDataSource db)
    {
        using var connection = db.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var empty = new NpgsqlCommand(
            "SELECT EXISTS (SELECT FROM sources) OR EXISTS (SELECT FROM claims) OR EXISTS (SELECT FROM evidence) OR EXISTS (SELECT FROM claim_status_changes)", connection, transaction))
        {
            // Loading on top of existing rows would break the keys that are put back afterwards.
            if ((bool)empty.ExecuteScalar()!)
            {
                throw new InvalidOperationException("generate fills an empty database; this one already has claims, sources or evidence.");
            }
        }

        var indexes = new List<(string, string, string)>();
        using (var query = new NpgsqlCommand(
            """
            SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = 'public'::regnamespace
            JOIN pg_index x ON x.indexrelid = c.oid
            WHERE i.schemaname = 'public' AND i.tablename = ANY(@tables)
              AND NOT x.indisprimary AND NOT x.indisunique
            """, connection, transaction))
        {
            query.Parameters.AddWithValue("tables", Tables);
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                indexes.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var primaryKeys = new List<Constraint>();
        var foreignKeys = new List<Constraint>();
        using (var query = new NpgsqlCommand(
            """
            SELECT c.contype, t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relnamespace = 'public'::regnamespace AND c.contype IN ('p', 'f')
              AND (t.relname = ANY(@tables) OR c.confrelid IN (
                  SELECT r.oid FROM pg_class r WHERE r.relnamespace = 'public'::regnamespace AND r.relname = ANY(@tables)))
            ORDER BY c.conname
            """, connection, transaction))
        {
            query.Parameters.AddWithValue("tables", Tables);
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                var constraint = new Constraint(reader.GetString(1), reader.GetString(2), reader.GetString(3));
                (reader.GetChar(0) == 'p' ? primaryKeys : foreignKeys).Add(constraint);
            }
        }

        // Kept in the database until the restore has run, not only in this process: a load that is
        // killed (kill -9, a lost machine) leaves the definitions to the next run, which puts them back.
        Execute(connection, $"CREATE TABLE {Record} (kind text NOT NULL, table_name text NOT NULL, name text NOT NULL, definition text NOT NULL)");
        using (var record = new NpgsqlCommand(
            $"INSERT INTO {Record} (kind, table_name, name, definition) SELECT * FROM unnest(@kinds, @tables, @names, @definitions)", connection, transaction))
        {
            var rows = indexes.Select(i => (Kind: "index", Table: i.Item1, Name: i.Item2, Definition: i.Item3))
                .Concat(primaryKeys.Select(k => (Kind: "primary", k.Table, k.Name, k.Definition)))
                .Concat(foreignKeys.Select(k => (Kind: "foreign", k.Table, k.Name, k.Definition)))
                .Append((Kind: "trigger", Table: "claims", Name: FilingTrigger, Definition: "")).ToList();
            record.Parameters.AddWithValue("kinds", rows.Select(r => r.Kind).ToArray());
            record.Parameters.AddWithValue("tables", rows.Select(r => r.Table).ToArray());
            record.Parameters.AddWithValue("names", rows.Select(r => r.Name).ToArray());
            record.Parameters.AddWithValue("definitions", rows.Select(r => r.Definition).ToArray());
            record.ExecuteNonQuery();
        }

        // Foreign keys first: they depend on the primary keys' indexes, including those of tables
        // outside the load (source_relations) that point into it.
        foreach (var key in foreignKeys.Concat(primaryKeys))
        {
            using var drop = new NpgsqlCommand($"ALTER TABLE {key.Table} DROP CONSTRAINT {key.Name}", connection, transaction);
            drop.ExecuteNonQuery();
        }

        foreach (var (_, name, _) in indexes)
        {
            using var drop = new NpgsqlCommand($"DROP INDEX {name}", connection, transaction);
            drop.ExecuteNonQuery();
        }

        using (var disable = new NpgsqlCommand($"ALTER TABLE claims DISABLE TRIGGER {FilingTrigger}", connection, transaction))
        {
            disable.ExecuteNonQuery();
        }

        transaction.Commit();
        return new Dropped(indexes, primaryKeys, foreignKeys, [("claims", FilingTrigger)]);
    }

    /// <summary>
    /// Puts back what an interrupted run dropped, as its record in the database says, after removing
    /// that run's rows: generate only loads an empty database, so every row there is the interrupted
    /// load's, and its half-loaded rows would break the keys. Whatever the record lists that already
    /// exists again (a restore that stopped half way) is left as it is.
    /// </summary>
    private static void RecoverInterrupted(NpgsqlDataSource db, TextWriter output)
    {
        Dropped dropped;
        using (var connection = db.OpenConnection())
        {
            using (var exists = new NpgsqlCommand($"SELECT to_regclass('{Record}') IS NOT NULL", connection))
            {
                if (!(bool)exists.ExecuteScalar()!)
                {
                    return;
                }
            }

            dropped = new Dropped([], [], [], []);
            using (var query = new NpgsqlCommand(
                $"""
                SELECT r.kind, r.table_name, r.name, r.definition FROM {Record} r
                WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.relname = r.name AND c.relnamespace = 'public'::regnamespace)
                  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conname = r.name AND k.connamespace = 'public'::regnamespace)
                ORDER BY r.name
                """, connection))
            using (var reader = query.ExecuteReader())
            {
                while (reader.Read())
                {
                    var (kind, table, name, definition) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3));
                    switch (kind)
                    {
                        case "index": dropped.Indexes.Add((table, name, definition)); break;
                        case "primary": dropped.PrimaryKeys.Add(new Constraint(table, name, definition)); break;
                        // Not a relation or a constraint, so always listed; enabling it again is harmless.
                        case "trigger": dropped.Triggers.Add((table, name)); break;
                        default: dropped.ForeignKeys.Add(new Constraint(table, name, definition)); break;
                    }
                }
            }

            output.WriteLine($"A previous generate stopped before putting back {dropped.Indexes.Count} indexes, {dropped.PrimaryKeys.Count} primary keys, "
                + $"{dropped.ForeignKeys.Count} foreign keys and {dropped.Triggers.Count} triggers: removing its rows and putting them back first.");
            Execute(connection, $"TRUNCATE {string.Join(", ", Tables)}");
        }

        Restore(db, dropped, analyze: false, output);
    }

    /// <summary>One unit of work on one connection; runs once everything in After is done.</summary>
    private sealed class Job(string name, string? table, double priority, Action<NpgsqlConnection> run, params Job[] after)
    {
        public string Name => name;

        public string? Table => table;

        public double Priority => priority;

        public Job[] After => after;

        public TimeSpan Took { get; private set; }

        public void Execute(NpgsqlConnection connection)
        {
            var clock = Stopwatch.StartNew();
            run(connection);
            Took = clock.Elapsed;
        }
    }

    /// <summary>
    /// Runs the jobs on that many connections, each on its own thread, always the highest priority job
    /// whose prerequisites are done. The first failure stops the handing out and is rethrown.
    /// </summary>
    private static void RunJobs(NpgsqlDataSource db, int connections, IEnumerable<Job> jobs, string setup = "", CancellationToken cancel = default)
    {
        var pending = jobs.OrderByDescending(j => j.Priority).ToList();
        var done = new HashSet<Job>();
        var gate = new object();
        Exception? failure = null;

        void Work()
        {
            try
            {
                using var connection = db.OpenConnection();
                if (setup.Length > 0)
                {
                    using var command = new NpgsqlCommand(setup, connection);
                    command.ExecuteNonQuery();
                }

                while (true)
                {
                    Job? job;
                    lock (gate)
                    {
                        while ((job = pending.Find(j => j.After.All(done.Contains))) is null)
                        {
                            if (failure is not null || pending.Count == 0)
                            {
                                return;
                            }

                            Monitor.Wait(gate);
                        }

                        if (failure is not null)
                        {
                            return;
                        }

                        if (cancel.IsCancellationRequested)
                        {
                            failure ??= new OperationCanceledException("The load was stopped.", cancel);
                            Monitor.PulseAll(gate);
                            return;
                        }

                        pending.Remove(job);
                    }

                    job.Execute(connection);
                    lock (gate)
                    {
                        done.Add(job);
                        Monitor.PulseAll(gate);
                    }
                }
            }
            catch (Exception e)
            {
                lock (gate)
                {
                    failure ??= e;
                    Monitor.PulseAll(gate);
                }
            }
        }

        var threads = Enumerable.Range(0, connections).Select(_ => new Thread(Work)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>What the history and evidence of a claim need to know about it, and the claim it rewords (its number; 0 for none).</summary>
    private readonly record struct ClaimFacts(Guid Id, DateTime At, string Status, int Evidence, int Original);

    /// <summary>
    /// Sources, then claims in chunks, each chunk's filing rows, history and evidence once the chunk is in;
    /// all on a few connections at once, since without foreign keys the tables do not wait for each other.
    /// Answers the evidence rows and the filing rows written.
    /// </summary>
    private static (long Evidence, long Filings, long History) Load(NpgsqlDataSource db, ClaimFacts[] facts, int sources, CancellationToken cancel)
    {
        var claims = facts.Length;
        var start = DateTime.UtcNow.AddYears(-2);
        var span = (long)(DateTime.UtcNow - start).TotalSeconds;
        long evidence = 0, filings = 0, history = 0;
        // Hashed once: evidence cites three sources per claim.
        var sourceIds = new Guid[sources];
        for (var n = 1; n <= sources; n++)
        {
            sourceIds[n - 1] = SourceId(n);
        }

        var jobs = new List<Job> { new("sources", "sources", 1, c => CopySources(c, sourceIds, start)) };
        for (var first = 1L; first <= claims; first += ChunkSize)
        {
            var (from, to) = (first, Math.Min(claims, first + ChunkSize - 1));
            // All claims first, in order; then the chunks' history and evidence, which cost less per claim
            // and so make a short tail.
            var chunk = new Job($"claims {from}", "claims", -from, c => Interlocked.Add(ref filings, CopyClaims(c, from, to, facts, start, span)));
            jobs.Add(chunk);
            jobs.Add(new($"history {from}", "claim_status_changes", -from - claims, c => Interlocked.Add(ref history, CopyHistory(c, from, to, facts)), chunk));
            jobs.Add(new($"evidence {from}", "evidence", -from - claims, c => Interlocked.Add(ref evidence, CopyEvidence(c, from, to, facts, sourceIds)), chunk));
        }

        RunJobs(db, Connections, jobs, cancel: cancel);
        return (evidence, filings, history);
    }

    private static void CopySources(NpgsqlConnection connection, Guid[] ids, DateTime start)
    {
        using var writer = new BinaryCopy(connection,
            "COPY sources (id, name, kind, description, url, reliability, created_at, updated_at, version, created_by) FROM STDIN (FORMAT BINARY)");
        var random = new Random(17);
        for (var n = 1; n <= ids.Length; n++)
        {
            var at = start.AddMinutes(random.Next(0, 2 * 365 * 24 * 60));
            writer.StartRow();
            writer.Uuid(ids[n - 1]);
            writer.Text($"{Words.Pick(random, Words.SourceNames)} {n}");
            writer.Text(Words.Pick(random, Words.SourceKinds));
            writer.Text("Generated source for the benchmark.");
            writer.Null();
            writer.Text(Words.Pick(random, Words.Reliabilities));
            writer.TimestampTz(at);
            writer.TimestampTz(at);
            writer.Int32(1);
            writer.Text("benchmark");
        }

        writer.Complete();
    }

    /// <summary>
    /// Claims first..last; notes what their history and evidence need in facts. One claim in twenty that is
    /// not itself a rewording starts a cluster: the claims after it (one to five, as far as the chunk goes)
    /// reword it, as other outlets report it within three days. So about 13% of claims are near-duplicates
    /// of an earlier one, each in the original's language. Then files them under their similarity keys,
    /// as the disabled trigger would, and answers the rows that took.
    /// </summary>
    private static long CopyClaims(NpgsqlConnection connection, long first, long last, ClaimFacts[] facts, DateTime start, long span)
    {
        // Seeded by the chunk, so that the data does not depend on which connection loads which chunk.
        var random = new Random((int)first);
        var end = start.AddSeconds(span);
        (string Statement, string Language, DateTime At, int Number) original = ("", "", default, 0);
        var rewordings = 0;
        // The chunk's keys, held for the filing COPY that follows on this connection: a few megabytes.
        var filed = new long[last - first + 1][];
        using var writer = new BinaryCopy(connection, $"COPY claims ({ClaimColumns}) FROM STDIN (FORMAT BINARY)");
        for (var n = first; n <= last; n++)
        {
            string statement, language;
            DateTime created;
            var rewords = 0;
            if (rewordings > 0)
            {
                rewordings--;
                (statement, language) = (Rewording.AsAnotherOutlet(random, original.Statement, original.Language), original.Language);
                created = original.At.AddSeconds(random.Next(0, 3 * 24 * 3600));
                created = created > end ? end : created;
                rewords = original.Number;
            }
            else
            {
                (statement, language) = Words.Statement(random, n == 1 ? Words.RareTerm : null);
                created = start.AddSeconds(random.NextInt64(span));
                if (random.Next(ClusterEvery) == 0)
                {
                    original = (statement, language, created, (int)n);
                    rewordings = (int)Math.Min(1 + random.Next(5), last - n);
                }
            }

            var updated = created.AddSeconds(random.Next(0, 3 * 24 * 3600));
            var status = Words.Status(random);
            var id = ClaimId(n);
            facts[n - 1] = new ClaimFacts(id, created, status, Words.EvidenceCount(random), rewords);

            writer.StartRow();
            writer.Uuid(id);
            writer.Text(statement);
            if (random.Next(3) == 0)
            {
                writer.Text("Summary: " + Words.Pick(random, Words.Summaries));
            }
            else
            {
                writer.Null();
            }

            writer.Text(language);
            writer.TextArray(Words.Tags(random));
            writer.Date(DateOnly.FromDateTime(created.AddDays(-random.Next(0, 5))));
            writer.Text(status);
            if (status is "unverified" or "in_review")
            {
                writer.Null();
            }
            else
            {
                writer.Text("Generated verdict with its reason.");
            }

            writer.TimestampTz(created);
            writer.TimestampTz(updated);
            writer.Int32(1);
            writer.Text("benchmark");
            // As the API writes them, so that the near-duplicate look-up sees every claim at once.
            filed[n - first] = SimilarityKeys.For(statement);
            writer.Int64Array(filed[n - first]);
        }

        // Complete ends the COPY, so the connection is free for the next.
        writer.Complete();

        long filings = 0;
        using var filing = new BinaryCopy(connection, "COPY claim_similarity_keys (key, claim_id) FROM STDIN (FORMAT BINARY)");
        for (var n = first; n <= last; n++)
        {
            var id = facts[n - 1].Id;
            foreach (var key in filed[n - first])
            {
                filing.StartRow();
                filing.Int64(key);
                filing.Uuid(id);
            }

            filings += filed[n - first].Length;
        }

        filing.Complete();
        return filings;
    }

    /// <summary>
    /// Each claim's history as the API keeps it: logged as unverified, then moved to its status if it
    /// has another, so that the history ends where the claim stands (an import checks that). Answers the rows written.
    /// </summary>
    private static long CopyHistory(NpgsqlConnection connection, long first, long last, ClaimFacts[] facts)
    {
        long written = 0;
        var random = new Random((int)first + 1);
        using var writer = new BinaryCopy(connection,
            "COPY claim_status_changes (id, claim_id, from_status, to_status, note, changed_at, changed_by) FROM STDIN (FORMAT BINARY)");
        for (var n = first; n <= last; n++)
        {
            var claim = facts[n - 1];
            writer.StartRow();
            writer.Uuid(Version7(claim.At, random));
            writer.Uuid(claim.Id);
            writer.Null();
            writer.Text("unverified");
            writer.Text("Logged.");
            writer.TimestampTz(claim.At);
            writer.Text("benchmark");
            written++;
            if (claim.Status != "unverified")
            {
                writer.StartRow();
                writer.Uuid(Version7(claim.At.AddMinutes(1), random));
                writer.Uuid(claim.Id);
                writer.Text("unverified");
                writer.Text(claim.Status);
                writer.Text("Benchmark verdict.");
                writer.TimestampTz(claim.At.AddMinutes(1));
                writer.Text("benchmark");
                written++;
            }
        }

        writer.Complete();
        return written;
    }

    /// <summary>Answers the number of evidence rows written.</summary>
    private static long CopyEvidence(NpgsqlConnection connection, long first, long last, ClaimFacts[] facts, Guid[] sources)
    {
        var random = new Random((int)first + 2);
        long written = 0;
        using var writer = new BinaryCopy(connection,
            "COPY evidence (id, claim_id, source_id, stance, quote, credibility, created_at, created_by) FROM STDIN (FORMAT BINARY)");
        for (var n = first; n <= last; n++)
        {
            var claim = facts[n - 1];
            for (var i = 0; i < claim.Evidence; i++)
            {
                // A verdict rests on its evidence: a confirmed claim has a 'supports' item, a false one a 'refutes'.
                var stance = i == 0 && claim.Status == "confirmed" ? "supports"
                    : i == 0 && claim.Status == "false" ? "refutes"
                    : Words.Pick(random, Words.Stances);
                writer.StartRow();
                writer.Uuid(Version7(claim.At, random));
                writer.Uuid(claim.Id);
                writer.Uuid(sources[random.Next(sources.Length)]);
                writer.Text(stance);
                writer.Text(Words.Pick(random, Words.Quotes));
                writer.Int16((short)random.Next(1, 7));
                writer.TimestampTz(claim.At);
                writer.Text("benchmark");
                written++;
            }
        }

        writer.Complete();
        return written;
    }

    /// <summary>
    /// Primary keys first (foreign keys need the referenced one), then the foreign keys as NOT VALID, which
    /// takes a moment; then the secondary indexes, the validations and ANALYZE as jobs, the slowest first
    /// so that no long build is left alone at the end. A validation (or ANALYZE) waits for the index
    /// builds on its own table, whose locks conflict with it, but not for those on the table it references.
    /// </summary>
    private static void Restore(NpgsqlDataSource db, Dropped dropped, bool analyze, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        const string Setup = "SET maintenance_work_mem = '256MB'; SET max_parallel_maintenance_workers = 0";
        var sizes = new Dictionary<string, long>();
        using (var connection = db.OpenConnection())
        using (var query = new NpgsqlCommand("SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY(@tables)", connection))
        {
            query.Parameters.AddWithValue("tables", Tables);
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                sizes[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        using (var connection = db.OpenConnection())
        {
            foreach (var (table, name) in dropped.Triggers)
            {
                Execute(connection, $"ALTER TABLE {table} ENABLE TRIGGER {name}");
            }
        }

        var keys = dropped.PrimaryKeys.Select(key => new Job(key.Name, key.Table, sizes[key.Table],
            c => Execute(c, $"ALTER TABLE {key.Table} ADD CONSTRAINT {key.Name} {key.Definition}"))).ToList();
        RunJobs(db, Connections, keys, Setup);

        using (var connection = db.OpenConnection())
        {
            foreach (var key in dropped.ForeignKeys)
            {
                Execute(connection, $"ALTER TABLE {key.Table} ADD CONSTRAINT {key.Name} {key.Definition} NOT VALID");
            }
        }

        // GiST and GIN builds cost several times what a B-tree on the same table does.
        var indexes = dropped.Indexes.Select(index => new Job(index.Name, index.Table,
            sizes[index.Table] * (index.Definition.Contains("USING gist", StringComparison.Ordinal) ? 8 : index.Definition.Contains("USING gin", StringComparison.Ordinal) ? 4 : 1),
            c => Execute(c, index.Definition))).ToList();
        var validations = new List<Job>();
        var analyses = new List<Job>();
        foreach (var table in Tables)
        {
            var before = indexes.Where(i => i.Table == table).ToArray();
            foreach (var key in dropped.ForeignKeys.Where(k => k.Table == table))
            {
                var validate = new Job(key.Name, table, sizes[table], c => Execute(c, $"ALTER TABLE {key.Table} VALIDATE CONSTRAINT {key.Name}"), before);
                validations.Add(validate);
                before = [validate];
            }

            if (analyze)
            {
                analyses.Add(new Job(table, table, sizes[table], c => Execute(c, $"ANALYZE {table}"), before));
            }
        }

        RunJobs(db, Connections, indexes.Concat(validations).Concat(analyses), Setup);
        Report(output, $"Primary keys added in {Seconds(keys)}", keys);
        Report(output, $"Indexes built in {Seconds(indexes)} of work, {Connections} at a time", indexes);
        Report(output, $"Foreign keys validated in {Seconds(validations)}, next to other tables' index builds", validations);
        Report(output, $"Analyzed in {Seconds(analyses)}", analyses);
        using (var connection = db.OpenConnection())
        {
            Execute(connection, $"DROP TABLE IF EXISTS {Record}");
        }

        output.WriteLine($"Restored {dropped.Indexes.Count} indexes, {dropped.PrimaryKeys.Count} primary keys, {dropped.ForeignKeys.Count} foreign keys and {dropped.Triggers.Count} triggers"
            + $"{(analyze ? " and analyzed" : "")} in {clock.Elapsed.TotalSeconds:F1} s.");
    }

    private static string Seconds(IEnumerable<Job> jobs) => $"{jobs.Sum(j => j.Took.TotalSeconds):F2} s";

    private static void Report(TextWriter output, string title, List<Job> jobs)
    {
        if (jobs.Count == 0)
        {
            return;
        }

        output.WriteLine(title + ":");
        foreach (var job in jobs.OrderByDescending(j => j.Took))
        {
            output.WriteLine($"  {job.Name,-45} {job.Took.TotalSeconds,6:F2} s");
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.ExecuteNonQuery();
    }
}
