using System.Text.Json;
using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Provenance;
using Claims.Api.Sources;
using Claims.Api.Sources.Relations;
using Dapper;
using Npgsql;

namespace Claims.Api.Seeding;

/// <summary>
/// Loads the demo story from seeds/ (copied beside the program). Rows carry fixed ids and are
/// inserted with ON CONFLICT DO NOTHING, so loading twice changes nothing, and a row someone
/// has since edited is left as it is.
/// </summary>
public static class SeedStory
{
    public sealed record Counts(int Sources, int Claims, int Evidence);

    private sealed record SeedFile(string? Story, IReadOnlyList<SeedSource> Sources, IReadOnlyList<SeedClaim> Claims, IReadOnlyList<SeedRelation>? Relations);

    private sealed record SeedRelation(Guid Id, Guid SourceId, SourceRelationKind Kind, Guid RelatedSourceId);

    /// <summary>Recorded as the author of what the story adds.</summary>
    public const string Author = "seed-story";

    private sealed record SeedSource(Guid Id, string Name, SourceKind Kind, string? Description, string? Url, Reliability Reliability);

    private sealed record SeedClaim(
        Guid Id, string Statement, string? Summary, string Language, string[] Tags, DateOnly? FirstReportedOn,
        ClaimStatus Status, string? StatusNote, IReadOnlyList<SeedEvidence> Evidence);

    private sealed record SeedEvidence(Guid Id, Guid SourceId, Stance Stance, string? Quote, string? Url, string? Note, int Credibility, IReadOnlyList<Guid>? ViaSourceIds);

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "seeds", "seed-story.json");

    /// <summary>Loads the story; answers how many rows were new.</summary>
    public static async Task<Counts> LoadAsync(NpgsqlDataSource db, JsonSerializerOptions json, CancellationToken ct, string? path = null)
    {
        await using var file = File.OpenRead(path ?? DefaultPath);
        var story = await JsonSerializer.DeserializeAsync<SeedFile>(file, json, ct)
            ?? throw new InvalidDataException("The seed file is empty.");

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var sources = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO sources (id, name, kind, description, url, reliability, created_by)
            SELECT *, @author FROM unnest(@ids::uuid[], @names::text[], @kinds::text[], @descriptions::text[], @urls::text[], @reliabilities::text[])
            ON CONFLICT (id) DO NOTHING
            """,
            new
            {
                ids = story.Sources.Select(s => s.Id).ToArray(),
                names = story.Sources.Select(s => s.Name).ToArray(),
                kinds = story.Sources.Select(s => s.Kind.ToName()).ToArray(),
                descriptions = story.Sources.Select(s => s.Description).ToArray(),
                urls = story.Sources.Select(s => s.Url).ToArray(),
                reliabilities = story.Sources.Select(s => s.Reliability.ToName()).ToArray(),
                author = Author,
            },
            transaction, cancellationToken: ct));

        // History is written only for the claims this run inserted: the logging, then the move
        // to the seeded status with its note, as the API would have recorded them.
        var (keys, keyCounts) = SimilarityKeys.ForMany([.. story.Claims.Select(c => c.Statement)]);
        var claims = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"""
            WITH inserted AS (
                INSERT INTO claims (id, statement, summary, language, tags, first_reported_on, status, status_note, created_by, similarity_keys)
                SELECT c.id, c.statement, c.summary, c.language, string_to_array(c.tags, ','), c.first_reported_on, c.status, c.status_note, @author,
                       {SimilarityKeys.Slice("@keys", "c.n", "c.key_count")}
                FROM unnest(@ids::uuid[], @statements::text[], @summaries::text[], @languages::text[], @tags::text[],
                            @reportedOn::date[], @statuses::text[], @notes::text[], @keyCounts::int[])
                     WITH ORDINALITY AS c (id, statement, summary, language, tags, first_reported_on, status, status_note, key_count, n)
                ON CONFLICT (id) DO NOTHING
                RETURNING id, status, status_note),
            history_ids AS (
                SELECT * FROM unnest(@ids::uuid[], @loggedIds::uuid[], @judgedIds::uuid[]) AS h (claim_id, logged_id, judged_id)),
            logged AS (
                INSERT INTO claim_status_changes (id, claim_id, from_status, to_status, note, changed_at, changed_by)
                SELECT h.logged_id, i.id, NULL, 'unverified', 'Logged.', now() - interval '1 second', @author
                FROM inserted i JOIN history_ids h ON h.claim_id = i.id),
            judged AS (
                INSERT INTO claim_status_changes (id, claim_id, from_status, to_status, note, changed_by)
                SELECT h.judged_id, i.id, 'unverified', i.status, i.status_note, @author
                FROM inserted i JOIN history_ids h ON h.claim_id = i.id
                WHERE i.status <> 'unverified')
            SELECT count(*) FROM inserted
            """,
            new
            {
                ids = story.Claims.Select(c => c.Id).ToArray(),
                statements = story.Claims.Select(c => c.Statement).ToArray(),
                summaries = story.Claims.Select(c => c.Summary).ToArray(),
                languages = story.Claims.Select(c => ClaimRules.NormalizeLanguage(c.Language)).ToArray(),
                tags = story.Claims.Select(c => string.Join(',', c.Tags)).ToArray(),
                reportedOn = story.Claims.Select(c => c.FirstReportedOn?.ToDateTime(TimeOnly.MinValue)).ToArray(),
                statuses = story.Claims.Select(c => c.Status.ToName()).ToArray(),
                notes = story.Claims.Select(c => c.StatusNote).ToArray(),
                loggedIds = story.Claims.Select(_ => Guid.CreateVersion7()).ToArray(),
                judgedIds = story.Claims.Select(_ => Guid.CreateVersion7()).ToArray(),
                keys,
                keyCounts,
                author = Author,
            },
            transaction, cancellationToken: ct));

        var evidence = story.Claims.SelectMany(c => c.Evidence.Select(e => (ClaimId: c.Id, Item: e))).ToArray();
        var evidenceCount = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO evidence (id, claim_id, source_id, stance, quote, url, note, credibility, via_source_ids, created_by)
            SELECT e.id, e.claim_id, e.source_id, e.stance, e.quote, e.url, e.note, e.credibility, string_to_array(e.via, ',')::uuid[], @author
            FROM unnest(@ids::uuid[], @claimIds::uuid[], @sourceIds::uuid[], @stances::text[], @quotes::text[],
                        @urls::text[], @notes::text[], @credibilities::smallint[], @vias::text[])
                 AS e (id, claim_id, source_id, stance, quote, url, note, credibility, via)
            ON CONFLICT (id) DO NOTHING
            """,
            new
            {
                ids = evidence.Select(e => e.Item.Id).ToArray(),
                claimIds = evidence.Select(e => e.ClaimId).ToArray(),
                sourceIds = evidence.Select(e => e.Item.SourceId).ToArray(),
                stances = evidence.Select(e => e.Item.Stance.ToName()).ToArray(),
                quotes = evidence.Select(e => e.Item.Quote).ToArray(),
                urls = evidence.Select(e => e.Item.Url).ToArray(),
                notes = evidence.Select(e => e.Item.Note).ToArray(),
                credibilities = evidence.Select(e => (short)e.Item.Credibility).ToArray(),
                vias = evidence.Select(e => string.Join(',', e.Item.ViaSourceIds ?? [])).ToArray(),
                author = Author,
            },
            transaction, cancellationToken: ct));

        // Who is one with whom (Lloyd Austin and the US government) and who relays whom.
        var relations = story.Relations ?? [];
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO source_relations (id, source_id, related_source_id, kind, created_by)
            SELECT *, @author FROM unnest(@ids::uuid[], @sourceIds::uuid[], @relatedIds::uuid[], @kinds::text[])
            ON CONFLICT DO NOTHING
            """,
            new
            {
                ids = relations.Select(r => r.Id).ToArray(),
                sourceIds = relations.Select(r => r.SourceId).ToArray(),
                relatedIds = relations.Select(r => r.RelatedSourceId).ToArray(),
                kinds = relations.Select(r => r.Kind.ToName()).ToArray(),
                author = Author,
            },
            transaction, cancellationToken: ct));
        await SourceGroups.RegroupAsync(connection, transaction, [.. relations.SelectMany(r => new[] { r.SourceId, r.RelatedSourceId })], ct);
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE claims c SET origin_counts = {Origins.CountsOf("c.id")} WHERE c.id = ANY(@ids)",
            new { ids = story.Claims.Select(c => c.Id).ToArray() }, transaction, cancellationToken: ct));

        await transaction.CommitAsync(ct);
        return new Counts(sources, claims, evidenceCount);
    }

    /// <summary>Loads the story only into a database with no claims and no sources.</summary>
    public static async Task<Counts?> LoadIfEmptyAsync(NpgsqlDataSource db, JsonSerializerOptions json, CancellationToken ct)
    {
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            var empty = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT NOT EXISTS (SELECT 1 FROM claims) AND NOT EXISTS (SELECT 1 FROM sources)", cancellationToken: ct));
            if (!empty)
            {
                return null;
            }
        }

        return await LoadAsync(db, json, ct);
    }
}
