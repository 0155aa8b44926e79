using Claims.Api.Claims;
using Claims.Api.Data;
using Claims.Api.Events;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Provenance;
using Claims.Api.Sources;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Claims.Api.Imports;

/// <summary>Lines read and checked, to settle in one transaction; <see cref="Read"/> is how many the reader had read by then.</summary>
internal sealed record ImportBatch(IReadOnlyList<ParsedLine> Lines, int Read, int Through);

/// <summary>What one batch did.</summary>
internal sealed record BatchOutcome(int Created, int Unchanged, int Rejected, int SourcesCreated);

/// <summary>
/// Settles a batch of lines in one transaction: matches sources and claims, rejects what cannot be
/// stored, writes the rest (sources, claims, evidence, history, events) and the job's report. The
/// report is committed with the rows it describes, so it never claims a line that was not written.
/// Rows go in by binary COPY; the claims' filing trigger runs once per COPY, as for a multi-row insert.
/// </summary>
internal sealed class ImportWriter(Guid jobId, bool dryRun, string? author, EventLog events)
{
    // Sources seen in earlier batches, by each way a line may name them: most lines of a file cite
    // the same few sources, so most batches need no look-up at all.
    private readonly Dictionary<Guid, EvidenceSource> _byId = [];
    private readonly Dictionary<string, EvidenceSource> _byExternalId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EvidenceSource> _byNameKey = new(StringComparer.Ordinal);

    /// <summary>The longest a COPY of one batch may take: far more than a batch needs, less than forever.</summary>
    private static readonly TimeSpan BatchTimeout = TimeSpan.FromMinutes(5);

    /// <summary>A file citing more sources than this looks them up again rather than keep them all.</summary>
    private const int MaxRememberedSources = 100_000;

    // Claims this batch (in a dry run, this job) has settled, so that a file that repeats a claim leaves the repeat unchanged.
    private readonly Dictionary<Guid, Guid> _claimIds = [];
    private readonly Dictionary<string, Guid> _claimExternalIds = new(StringComparer.Ordinal);

    public async Task<BatchOutcome> WriteAsync(NpgsqlConnection connection, ImportBatch batch, CancellationToken ct)
    {
        var drafts = batch.Lines.Where(l => l.Draft is not null).Select(l => l.Draft!).ToList();
        var now = Microseconds(DateTime.UtcNow);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var found = await LookUpAsync(connection, transaction, drafts, ct);

        var reports = new List<ImportLineReport>();
        var created = new List<ClaimDraft>();
        var newSources = new List<NewSource>();
        var rejected = batch.Lines.Count(l => l.Draft is null);
        foreach (var line in batch.Lines.Where(l => l.Draft is null))
        {
            reports.AddRange(line.Errors.Select(e => new ImportLineReport(e.Line, "rejected", e.Field, e.Message, null)));
        }

        var evidenceIds = new HashSet<Guid>();
        var historyIds = new HashSet<Guid>();
        foreach (var draft in drafts)
        {
            if (Existing(draft, found) is { } existing)
            {
                reports.Add(new ImportLineReport(draft.Line, "unchanged", null, null, existing));
                continue;
            }

            var errors = new List<(int Line, string Field, string Message)>();
            var sources = new EvidenceSource[draft.Evidence.Count];
            var chains = new EvidenceSource[draft.Evidence.Count][];
            // What a line would add is kept aside until the line is known to be written: a
            // rejected line creates no source and reserves no id.
            var lineSources = new List<NewSource>();
            var lineEvidenceIds = new HashSet<Guid>();
            var lineHistoryIds = new HashSet<Guid>();
            for (var i = 0; i < draft.Evidence.Count; i++)
            {
                var item = draft.Evidence[i];
                if (found.EvidenceIds.Contains(item.Id) || evidenceIds.Contains(item.Id) || !lineEvidenceIds.Add(item.Id))
                {
                    errors.Add((draft.Line, $"{item.Field}.id", $"The evidence id {item.Id} is taken by another evidence item."));
                }

                foreach (var (named, j) in item.Via.Select((v, j) => (v, j)).Prepend((item.Source, -1)))
                {
                    if (Resolve(named, found, now, lineSources) is not { } source)
                    {
                        // A spreadsheet's user looks for the row and column; an NDJSON line's, for the JSON path.
                        errors.Add((draft.EvidenceLines?[i] ?? draft.Line,
                            draft.EvidenceLines is null ? $"{item.Field}.{named.NamedBy}" : CsvRows.ColumnOf(named.NamedBy) ?? named.NamedBy,
                            named.Id is { } id
                            ? $"There is no source with id {id}; give its name and kind as well to create it."
                            : $"There is no source with externalId '{named.ExternalId}'; give its name and kind as well to create it."));
                    }
                    else if (j < 0)
                    {
                        sources[i] = source;
                    }
                    else
                    {
                        (chains[i] ??= new EvidenceSource[item.Via.Count])[j] = source;
                    }
                }

                // Matched by name or externalId, a chain can name the quoted source, or one
                // source twice, which ids alone would have shown.
                var chain = chains[i] ?? [];
                if (sources[i] is { } quoted && chain.All(c => c is not null)
                    && (chain.Any(c => c.Id == quoted.Id) || chain.DistinctBy(c => c.Id).Count() < chain.Length))
                {
                    errors.Add((draft.Line, $"{item.Field}.via", "A chain names each source once, and not the quoted source itself."));
                }
            }

            foreach (var change in draft.History)
            {
                if (found.HistoryIds.Contains(change.Id) || historyIds.Contains(change.Id) || !lineHistoryIds.Add(change.Id))
                {
                    errors.Add((draft.Line, "history", $"The status change id {change.Id} is taken by another claim's history."));
                }
            }

            if (errors.Count > 0)
            {
                rejected++;
                reports.AddRange(errors.Select(e => new ImportLineReport(e.Line, "rejected", e.Field, e.Message, null)));
                continue;
            }

            evidenceIds.UnionWith(lineEvidenceIds);
            historyIds.UnionWith(lineHistoryIds);
            foreach (var made in lineSources)
            {
                Remember(made);
                newSources.Add(made);
            }

            _claimIds[draft.Id] = draft.Id;
            if (draft.ExternalId is not null)
            {
                _claimExternalIds[draft.ExternalId] = draft.Id;
            }

            created.Add(draft with
            {
                Evidence = [.. draft.Evidence.Select((e, i) => e with
                {
                    Source = e.Source with { Id = sources[i].Id },
                    Via = [.. e.Via.Select((v, j) => v with { Id = chains[i][j].Id })],
                })],
            });
            _resolved.Add(draft.Id, (sources, chains));
        }

        var unchanged = reports.Count(r => r.Outcome == "unchanged");
        if (!dryRun)
        {
            await CopySourcesAsync(connection, newSources, ct);
            await CopyClaimsAsync(connection, created, ct);
            await CopyEvidenceAsync(connection, created, ct);
            await CountOriginsAsync(connection, created, ct);
            await CopyHistoryAsync(connection, created, ct);
        }

        var parameters = new DynamicParameters();
        var eventSql = dryRun ? "" : events.Statement(commit, author, Events(created, newSources), parameters);
        parameters.AddDynamicParams(new
        {
            jobId,
            read = batch.Read,
            through = batch.Through,
            created = created.Count,
            unchanged,
            rejected,
            sourcesCreated = newSources.Count,
            lines = reports.Select(r => r.Line).ToArray(),
            outcomes = reports.Select(r => r.Outcome).ToArray(),
            fields = reports.Select(r => r.Field).ToArray(),
            messages = reports.Select(r => r.Message).ToArray(),
            claimIds = reports.Select(r => r.ClaimId).ToArray(),
        });
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            {eventSql}
            INSERT INTO import_lines (import_id, line, outcome, field, message, claim_id)
            SELECT @jobId, r.line, r.outcome, r.field, r.message, r.claim_id
            FROM unnest(@lines::int[], @outcomes::text[], @fields::text[], @messages::text[], @claimIds::uuid[]) AS r (line, outcome, field, message, claim_id);
            UPDATE imports SET lines_read = @read, settled_through = @through, created = created + @created, unchanged = unchanged + @unchanged,
                               rejected = rejected + @rejected, sources_created = sources_created + @sourcesCreated, updated_at = now()
            WHERE id = @jobId;
            """, parameters, transaction, commandTimeout: 0, cancellationToken: ct));
        await commit.RunAsync();
        _resolved.Clear();
        if (!dryRun)
        {
            // Written now, so the next batch's look-up finds them: memory stays flat however long
            // the file. A dry run writes nothing and has only these to go by.
            _claimIds.Clear();
            _claimExternalIds.Clear();
            if (_byId.Count > MaxRememberedSources)
            {
                _byId.Clear();
                _byExternalId.Clear();
                _byNameKey.Clear();
            }
        }

        return new BatchOutcome(created.Count, unchanged, rejected, newSources.Count);
    }

    // The sources of each created claim's evidence and their chains, for its events.
    private readonly Dictionary<Guid, (EvidenceSource[] Sources, EvidenceSource[][] Chains)> _resolved = [];

    private sealed record Found(
        Dictionary<Guid, EvidenceSource> SourcesById, Dictionary<string, EvidenceSource> SourcesByExternalId, Dictionary<string, EvidenceSource> SourcesByNameKey,
        Dictionary<Guid, Guid> ClaimsById, Dictionary<string, Guid> ClaimsByExternalId, HashSet<Guid> EvidenceIds, HashSet<Guid> HistoryIds);

    private sealed record SourceMatch(Guid Id, string? ExternalId, string Name, string Kind, string Reliability, string NameKey);

    private sealed record ClaimMatch(Guid Id, string? ExternalId);

    /// <summary>One round trip: the sources, claims, evidence and history ids the batch names that exist already.</summary>
    private async Task<Found> LookUpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<ClaimDraft> drafts, CancellationToken ct)
    {
        var refs = drafts.SelectMany(d => d.Evidence).SelectMany(e => e.Via.Prepend(e.Source)).ToList();
        var sourceIds = refs.Where(r => r.Id is { } id && !_byId.ContainsKey(id)).Select(r => r.Id!.Value).Distinct().ToArray();
        // Every way a reference names its source is looked up, since each is tried in turn when the one before finds nothing.
        var sourceExternalIds = refs.Where(r => r.ExternalId is { } x && !_byExternalId.ContainsKey(x)).Select(r => r.ExternalId!).Distinct().ToArray();
        var nameKeys = refs.Where(r => r.NameKey is { } k && !_byNameKey.ContainsKey(k)).DistinctBy(r => r.NameKey).ToList();
        // Sources remembered from earlier batches may have been deleted since: they are checked, and
        // held until this batch commits so that its evidence never points at a missing source.
        var remembered = refs.Select(r => r.Id is { } i && _byId.TryGetValue(i, out var s) ? s
                : r.ExternalId is { } x && _byExternalId.TryGetValue(x, out s) ? s
                : r.NameKey is { } k && _byNameKey.TryGetValue(k, out s) ? s : null)
            .Where(s => s is not null).Select(s => s!.Id).Distinct().ToArray();
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT pg_advisory_xact_lock(7274, 15);
            SELECT id FROM sources WHERE id = ANY(@remembered) FOR KEY SHARE;
            SELECT id, external_id, name, kind, reliability, kind || '|' || lower(name) AS name_key FROM sources WHERE id = ANY(@sourceIds)
            UNION ALL
            SELECT id, external_id, name, kind, reliability, kind || '|' || lower(name) FROM sources WHERE external_id = ANY(@sourceExternalIds)
            UNION ALL
            (SELECT DISTINCT ON (n.name, n.kind) s.id, s.external_id, s.name, s.kind, s.reliability, n.kind || '|' || n.name
             FROM unnest(@names::text[], @kinds::text[]) AS n (name, kind)
             JOIN sources s ON lower(s.name) = lower(n.name) AND s.kind = n.kind
             ORDER BY n.name, n.kind, s.created_at, s.id);
            SELECT id, external_id FROM claims WHERE id = ANY(@claimIds)
            UNION ALL
            SELECT id, external_id FROM claims WHERE external_id = ANY(@claimExternalIds);
            SELECT id FROM evidence WHERE id = ANY(@evidenceIds);
            SELECT id FROM claim_status_changes WHERE id = ANY(@historyIds);
            """,
            new
            {
                remembered,
                sourceIds,
                sourceExternalIds,
                names = nameKeys.Select(r => r.Name!.Trim().ToLowerInvariant()).ToArray(),
                kinds = nameKeys.Select(r => r.Kind!.Value.ToName()).ToArray(),
                claimIds = drafts.Select(d => d.Id).ToArray(),
                claimExternalIds = drafts.Where(d => d.ExternalId is not null).Select(d => d.ExternalId!).ToArray(),
                evidenceIds = drafts.SelectMany(d => d.Evidence).Select(e => e.Id).ToArray(),
                historyIds = drafts.SelectMany(d => d.History).Select(h => h.Id).ToArray(),
            },
            transaction, commandTimeout: 0, cancellationToken: ct));
        // Imports settle one batch at a time across instances: two files naming the same new source
        // or claim then make one, and the second finds it.
        await results.ReadAsync<object>();
        var stillThere = (await results.ReadAsync<Guid>()).ToHashSet();
        if (stillThere.Count < remembered.Length)
        {
            Forget(remembered.Where(id => !stillThere.Contains(id)).ToHashSet());
        }

        var sources = (await results.ReadAsync<SourceMatch>()).ToList();
        foreach (var s in sources)
        {
            var source = new EvidenceSource(s.Id, s.Name, EnumNames<SourceKind>.Parse(s.Kind), EnumNames<Reliability>.Parse(s.Reliability));
            _byId[s.Id] = source;
            if (s.ExternalId is not null)
            {
                _byExternalId[s.ExternalId] = source;
            }

            _byNameKey.TryAdd(s.NameKey, source);
        }

        var claims = (await results.ReadAsync<ClaimMatch>()).ToList();
        return new Found(_byId, _byExternalId, _byNameKey,
            claims.DistinctBy(c => c.Id).ToDictionary(c => c.Id, c => c.Id),
            claims.Where(c => c.ExternalId is not null).DistinctBy(c => c.ExternalId).ToDictionary(c => c.ExternalId!, c => c.Id, StringComparer.Ordinal),
            [.. await results.ReadAsync<Guid>()], [.. await results.ReadAsync<Guid>()]);
    }

    /// <summary>The claim a line names that is here already (stored, or settled earlier by this job): by id first, then by externalId.</summary>
    private Guid? Existing(ClaimDraft draft, Found found)
    {
        if (found.ClaimsById.TryGetValue(draft.Id, out var byId) || _claimIds.TryGetValue(draft.Id, out byId))
        {
            return byId;
        }

        return draft.ExternalId is { } x && (found.ClaimsByExternalId.TryGetValue(x, out var byExternal) || _claimExternalIds.TryGetValue(x, out byExternal))
            ? byExternal
            : null;
    }

    /// <summary>
    /// The source an evidence item names: by id, else by externalId, else by name and kind (the
    /// oldest of that name and kind); created from the line's fields when none matches and it
    /// gives a name and kind, or null.
    /// </summary>
    private EvidenceSource? Resolve(SourceRef source, Found found, DateTime now, List<NewSource> created)
    {
        if (source.Id is { } id
            && (found.SourcesById.TryGetValue(id, out var match) || (match = created.Find(c => c.Source.Id == id)?.Cited) is not null))
        {
            return match;
        }

        if (source.ExternalId is { } x
            && (found.SourcesByExternalId.TryGetValue(x, out match) || (match = created.Find(c => c.ExternalId == x)?.Cited) is not null))
        {
            return match;
        }

        if (source.NameKey is { } key
            && (found.SourcesByNameKey.TryGetValue(key, out match) || (match = created.Find(c => c.NameKey == key)?.Cited) is not null))
        {
            return match;
        }

        if (!source.CanCreate)
        {
            return null;
        }

        var made = new Source(source.Id ?? Guid.CreateVersion7(), source.Name!, source.Kind!.Value, null, null, source.Reliability, now, now, 1, author);
        var pending = new NewSource(made, source.ExternalId, source.NameKey!, new EvidenceSource(made.Id, made.Name, made.Kind, made.Reliability));
        created.Add(pending);
        return pending.Cited;
    }

    private void Forget(HashSet<Guid> gone)
    {
        foreach (var cache in new[] { _byExternalId, _byNameKey })
        {
            foreach (var key in cache.Where(pair => gone.Contains(pair.Value.Id)).Select(pair => pair.Key).ToList())
            {
                cache.Remove(key);
            }
        }

        foreach (var id in gone)
        {
            _byId.Remove(id);
        }
    }

    /// <summary>A source a written line created, for the lines after it to find.</summary>
    private void Remember(NewSource made)
    {
        _byId[made.Source.Id] = made.Cited;
        if (made.ExternalId is not null)
        {
            _byExternalId[made.ExternalId] = made.Cited;
        }

        _byNameKey.TryAdd(made.NameKey, made.Cited);
    }

    /// <summary>A source an import creates: the row to write, with the externalId its line gave.</summary>
    private sealed record NewSource(Source Source, string? ExternalId, string NameKey, EvidenceSource Cited);

    private List<NewEvent> Events(List<ClaimDraft> created, List<NewSource> sources)
    {
        var changes = new List<NewEvent>(sources.Count + created.Count * 4);
        changes.AddRange(sources.Select(s => new NewEvent(EventType.SourceCreated, s.Source.Id, null, s.Source)));
        foreach (var draft in created)
        {
            var (cited, chains) = _resolved[draft.Id];
            var items = draft.Evidence.Select((e, i) => new EvidenceItem(
                e.Id, draft.Id, cited[i], e.Stance, e.Quote, e.Url, e.PublishedAt, e.Note, e.Credibility, e.CreatedAt, e.CreatedBy,
                chains[i] is { Length: > 0 } chain ? [.. chain.Select(c => c.Id)] : null, chains[i] is { Length: > 0 } ? chains[i] : null,
                chains[i] is { Length: > 0 } last ? last[^1].Id : null)).ToList();
            var f = draft.Fields;
            var claim = new Claim(draft.Id, f.Statement!, f.Summary, f.Language!, f.Tags!, f.FirstReportedOn, draft.Status, draft.StatusNote,
                draft.CreatedAt, draft.UpdatedAt, draft.Version, draft.CreatedBy, items);
            changes.Add(new NewEvent(EventType.ClaimCreated, draft.Id, draft.Id, claim));
            changes.AddRange(items.Select(e => new NewEvent(EventType.EvidenceAdded, e.Id, draft.Id, e)));
        }

        return changes;
    }

    private static async Task CopySourcesAsync(NpgsqlConnection connection, List<NewSource> sources, CancellationToken ct)
    {
        if (sources.Count == 0)
        {
            return;
        }

        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY sources (id, name, kind, reliability, created_at, updated_at, version, created_by, external_id) FROM STDIN (FORMAT BINARY)", ct);
        copy.Timeout = BatchTimeout;
        foreach (var (s, externalId, _, _) in sources)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(s.Id, NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(s.Name, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(s.Kind.ToName(), NpgsqlDbType.Text, ct);
            await copy.WriteAsync(s.Reliability.ToName(), NpgsqlDbType.Text, ct);
            await copy.WriteAsync(s.CreatedAt, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(s.UpdatedAt, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(s.Version, NpgsqlDbType.Integer, ct);
            await WriteNullableAsync(copy, s.CreatedBy, NpgsqlDbType.Text, ct);
            await WriteNullableAsync(copy, externalId, NpgsqlDbType.Text, ct);
        }

        await copy.CompleteAsync(ct);
    }

    private static async Task CopyClaimsAsync(NpgsqlConnection connection, List<ClaimDraft> claims, CancellationToken ct)
    {
        if (claims.Count == 0)
        {
            return;
        }

        await using var copy = await connection.BeginBinaryImportAsync(
            """
            COPY claims (id, external_id, statement, summary, language, tags, first_reported_on, status, status_note,
                         created_at, updated_at, status_updated_at, version, created_by, similarity_keys) FROM STDIN (FORMAT BINARY)
            """, ct);
        copy.Timeout = BatchTimeout;
        foreach (var c in claims)
        {
            // When the status or the evidence last changed, as the status answer reports it.
            var statusUpdatedAt = c.History.Select(h => h.ChangedAt).Concat(c.Evidence.Select(e => e.CreatedAt)).Append(c.CreatedAt).Max();
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(c.Id, NpgsqlDbType.Uuid, ct);
            await WriteNullableAsync(copy, c.ExternalId, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(c.Fields.Statement!, NpgsqlDbType.Text, ct);
            await WriteNullableAsync(copy, c.Fields.Summary, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(c.Fields.Language!, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(c.Fields.Tags!.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            if (c.Fields.FirstReportedOn is { } day)
            {
                await copy.WriteAsync(day, NpgsqlDbType.Date, ct);
            }
            else
            {
                await copy.WriteNullAsync(ct);
            }

            await copy.WriteAsync(c.Status.ToName(), NpgsqlDbType.Text, ct);
            await WriteNullableAsync(copy, c.StatusNote, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(c.CreatedAt, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(c.UpdatedAt, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(statusUpdatedAt, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(c.Version, NpgsqlDbType.Integer, ct);
            await WriteNullableAsync(copy, c.CreatedBy, NpgsqlDbType.Text, ct);
            if (c.SimilarityKeys is { } keys)
            {
                await copy.WriteAsync(keys, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
            }
            else
            {
                await copy.WriteNullAsync(ct);
            }
        }

        await copy.CompleteAsync(ct);
    }

    private static async Task CopyEvidenceAsync(NpgsqlConnection connection, List<ClaimDraft> claims, CancellationToken ct)
    {
        if (!claims.Any(c => c.Evidence.Count > 0))
        {
            return;
        }

        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY evidence (id, claim_id, source_id, stance, quote, url, published_at, note, credibility, created_at, created_by, via_source_ids) FROM STDIN (FORMAT BINARY)", ct);
        copy.Timeout = BatchTimeout;
        foreach (var c in claims)
        {
            foreach (var e in c.Evidence)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(e.Id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(c.Id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(e.Source.Id!.Value, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(e.Stance.ToName(), NpgsqlDbType.Text, ct);
                await WriteNullableAsync(copy, e.Quote, NpgsqlDbType.Text, ct);
                await WriteNullableAsync(copy, e.Url, NpgsqlDbType.Text, ct);
                if (e.PublishedAt is { } published)
                {
                    await copy.WriteAsync(published, NpgsqlDbType.TimestampTz, ct);
                }
                else
                {
                    await copy.WriteNullAsync(ct);
                }

                await WriteNullableAsync(copy, e.Note, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(e.Credibility, NpgsqlDbType.Smallint, ct);
                await copy.WriteAsync(e.CreatedAt, NpgsqlDbType.TimestampTz, ct);
                await WriteNullableAsync(copy, e.CreatedBy, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(e.Via.Select(v => v.Id!.Value).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Uuid, ct);
            }
        }

        await copy.CompleteAsync(ct);
    }

    /// <summary>The created claims' origin counts, which COPY leaves at their default.</summary>
    private static async Task CountOriginsAsync(NpgsqlConnection connection, List<ClaimDraft> claims, CancellationToken ct)
    {
        var ids = claims.Where(c => c.Evidence.Count > 0).Select(c => c.Id).ToArray();
        if (ids.Length > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"{Origins.CountingLock} UPDATE claims c SET origin_counts = {Origins.CountsOf("c.id")} WHERE c.id = ANY(@ids)",
                new { ids }, commandTimeout: 0, cancellationToken: ct));
        }
    }

    private static async Task CopyHistoryAsync(NpgsqlConnection connection, List<ClaimDraft> claims, CancellationToken ct)
    {
        if (claims.Count == 0)
        {
            return;
        }

        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY claim_status_changes (id, claim_id, from_status, to_status, note, changed_at, changed_by) FROM STDIN (FORMAT BINARY)", ct);
        copy.Timeout = BatchTimeout;
        foreach (var c in claims)
        {
            foreach (var h in c.History)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(h.Id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(c.Id, NpgsqlDbType.Uuid, ct);
                await WriteNullableAsync(copy, h.From?.ToName(), NpgsqlDbType.Text, ct);
                await copy.WriteAsync(h.To.ToName(), NpgsqlDbType.Text, ct);
                await WriteNullableAsync(copy, h.Note, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(h.ChangedAt, NpgsqlDbType.TimestampTz, ct);
                await WriteNullableAsync(copy, h.ChangedBy, NpgsqlDbType.Text, ct);
            }
        }

        await copy.CompleteAsync(ct);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, NpgsqlDbType type, CancellationToken ct) =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, type, ct);

    /// <summary>PostgreSQL keeps microseconds: a time made here is stored as it will be read back.</summary>
    public static DateTime Microseconds(DateTime time) => new(time.Ticks - time.Ticks % 10, DateTimeKind.Utc);
}
