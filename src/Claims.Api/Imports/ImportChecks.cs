using System.Security.Cryptography;
using System.Text;
using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Sources;
using Claims.Api.Validation;
using Claims.Api.Verification;
using FluentValidation;

namespace Claims.Api.Imports;

/// <summary>A field error of one line; the CSV reader moves evidence errors to the row and column they came from.</summary>
internal sealed record LineError(int Line, string? Field, string Message);

/// <summary>
/// How an evidence item names its source. One that matches nothing is created from it, so a
/// reference by id or externalId alone must match.
/// </summary>
internal sealed record SourceRef(Guid? Id, string? ExternalId, string? Name, SourceKind? Kind, Reliability Reliability, string NamedBy)
{
    /// <summary>The name and kind as matching compares them: the name trimmed and in lower case.</summary>
    public string? NameKey => Name is null || Kind is null ? null : $"{Kind.Value.ToName()}|{Name.Trim().ToLowerInvariant()}";

    public bool CanCreate => Name is not null && Kind is not null;
}

internal sealed record EvidenceDraft(
    Guid Id, SourceRef Source, Stance Stance, string? Quote, string? Url, DateTime? PublishedAt, string? Note, short Credibility, DateTime CreatedAt, string? CreatedBy,
    string Field, IReadOnlyList<SourceRef> Via);

internal sealed record HistoryDraft(Guid Id, ClaimStatus? From, ClaimStatus To, string? Note, DateTime ChangedAt, string? ChangedBy);

/// <summary>A line that passed every check: the claim as it will be stored.</summary>
internal sealed record ClaimDraft(
    int Line, Guid Id, bool IdGiven, string? ExternalId, ClaimRequest Fields, ClaimStatus Status, string? StatusNote,
    DateTime CreatedAt, DateTime UpdatedAt, int Version, string? CreatedBy, long[]? SimilarityKeys,
    IReadOnlyList<EvidenceDraft> Evidence, IReadOnlyList<HistoryDraft> History)
{
    /// <summary>From a CSV: the line of each evidence item's row, where the writer reports what it finds wrong with one.</summary>
    public IReadOnlyList<int>? EvidenceLines { get; init; }
}

/// <summary>A line as read: the draft, or why it was rejected.</summary>
internal sealed record ParsedLine(int Line, ClaimDraft? Draft, IReadOnlyList<LineError> Errors);

/// <summary>
/// Checks a line with the API's own validators (those of POST /claims and POST /sources) and the
/// verdict rules of PUT /claims/{id}/status, and turns it into the claim to store.
/// </summary>
internal sealed class ImportChecks(IValidator<CreateClaimRequest> claims, IValidator<SourceRequest> sources, bool fileSimilarity, string? author)
{
    /// <summary>The prefix of the key made for a claim that comes with neither id nor externalId.</summary>
    public const string MadeKeyPrefix = "sha256:";

    public ParsedLine Check(int line, ImportLine item, DateTime now)
    {
        now = ImportWriter.Microseconds(now);
        var errors = new List<LineError>();
        void Add(string? field, string message) => errors.Add(new LineError(line, field, message));

        var evidence = item.Evidence ?? [];
        // A source named by name and kind goes through the API's source rules; one named by id or
        // externalId must exist, which the writer checks. The claim's rules need some id.
        var placeholder = Guid.NewGuid();
        var request = new CreateClaimRequest(item.Statement, item.Summary, item.Language, item.Tags, item.FirstReportedOn,
            [.. evidence.Select(e => e is null ? null! : new EvidenceRequest(
                e.SourceId ?? e.Source?.Id ?? (e.Source is null ? null : placeholder), e.Stance, e.Quote, e.Url, e.PublishedAt, e.Note, e.Credibility,
                e.ViaSourceIds ?? e.Via?.Select(v => v?.Id ?? Guid.NewGuid()).ToList()))]);
        foreach (var failure in claims.Validate(request).Errors)
        {
            Add(failure.PropertyName, failure.ErrorMessage);
        }

        for (var i = 0; i < evidence.Count; i++)
        {
            if (evidence[i]?.Source is not { } source)
            {
                continue;
            }

            if (evidence[i].SourceId is { } sourceId && source.Id is { } id && sourceId != id)
            {
                Add($"evidence[{i}].sourceId", "Differs from source.id: give the source once.");
            }

            if (source.Id is null && source.ExternalId is null || source.Name is not null || source.Kind is not null)
            {
                foreach (var failure in sources.Validate(new SourceRequest(source.Name, source.Kind, null, null, source.Reliability)).Errors)
                {
                    Add($"evidence[{i}].source.{failure.PropertyName}", failure.ErrorMessage);
                }
            }

            Key($"evidence[{i}].source.externalId", source.ExternalId, Add);
        }

        for (var i = 0; i < evidence.Count; i++)
        {
            CheckVia(evidence[i], $"evidence[{i}]", Add);
        }

        if (item.Id == Guid.Empty)
        {
            Add("id", "Must not be the empty UUID.");
        }

        Key("externalId", item.ExternalId, Add);

        if (item.Version is < 1)
        {
            Add("version", "Must be 1 or more.");
        }

        // The fields only an import may set, under the rules the API's validators apply to the
        // rest: a NUL or a date PostgreSQL stores as -infinity would fail the whole batch's COPY.
        Text("createdBy", item.CreatedBy, 100, Add);
        Text("statusNote", item.StatusNote, 2000, Add);
        Moment("createdAt", item.CreatedAt, Add);
        Moment("updatedAt", item.UpdatedAt, Add);
        for (var i = 0; i < evidence.Count; i++)
        {
            Text($"evidence[{i}].createdBy", evidence[i]?.CreatedBy, 100, Add);
            Moment($"evidence[{i}].createdAt", evidence[i]?.CreatedAt, Add);
        }

        var status = item.Status ?? ClaimStatus.Unverified;
        var rule = Verdicts.RuleOf(status);
        if (rule.NeedsNote && !VisibleText.Any(item.StatusNote))
        {
            Add("statusNote", $"Required for the status {status.ToName()}: {rule.Rule}");
        }

        if (rule.NeedsEvidence is { } needed && !evidence.Any(e => e?.Stance == needed))
        {
            Add("status", rule.Rule);
        }

        CheckHistory(item.History, status, Add);
        if (errors.Count > 0)
        {
            return new ParsedLine(line, null, errors);
        }

        var stored = ClaimRules.Stored(request);
        var createdAt = item.CreatedAt?.UtcDateTime ?? now;
        var createdBy = item.CreatedBy ?? author;
        var updatedAt = item.UpdatedAt?.UtcDateTime ?? now;
        // Items stored together are ordered by (created_at, id), as GET /claims/{id} lists them.
        var madeIds = evidence.Select(_ => Guid.CreateVersion7()).Order().ToArray();
        var drafts = evidence.Select((e, i) => new EvidenceDraft(
            e.Id ?? madeIds[i],
            e.Source is { } s
                ? new SourceRef(e.SourceId ?? s.Id, s.ExternalId, s.Name?.Trim(), s.Kind, s.Reliability ?? Reliability.F,
                    e.SourceId is not null ? "sourceId" : s.Id is not null ? "source.id" : "source.externalId")
                : new SourceRef(e.SourceId, null, null, null, Reliability.F, "sourceId"),
            e.Stance!.Value, e.Quote, e.Url, e.PublishedAt?.UtcDateTime, e.Note, (short)(e.Credibility ?? 6),
            e.CreatedAt?.UtcDateTime ?? createdAt, e.CreatedBy ?? createdBy, $"evidence[{i}]", Via(e))).ToArray();
        var history = item.History is { Count: > 0 } given
            ? given.Select(h => new HistoryDraft(h.Id ?? Guid.CreateVersion7(), h.FromStatus, h.ToStatus!.Value, h.Note, h.ChangedAt?.UtcDateTime ?? createdAt, h.ChangedBy ?? author)).ToArray()
            : status == ClaimStatus.Unverified
                ? [new HistoryDraft(Guid.CreateVersion7(), null, ClaimStatus.Unverified, "Imported.", createdAt, createdBy)]
                : [new HistoryDraft(Guid.CreateVersion7(), null, ClaimStatus.Unverified, "Imported.", createdAt, createdBy),
                    new HistoryDraft(Guid.CreateVersion7(), ClaimStatus.Unverified, status, item.StatusNote, updatedAt, author)];
        var externalId = item.ExternalId ?? (item.Id is null ? MadeKey(stored.Language!, stored.Statement!) : null);
        return new ParsedLine(line, new ClaimDraft(
            line, item.Id ?? Guid.CreateVersion7(), item.Id is not null, externalId, stored, status, item.StatusNote, createdAt, updatedAt, item.Version ?? 1, createdBy,
            fileSimilarity ? SimilarityKeys.For(stored.Statement!) : null, drafts, history), []);
    }

    /// <summary>A chain given as objects (via), as ids (viaSourceIds), or as both when they agree.</summary>
    private void CheckVia(ImportEvidence? item, string field, Action<string?, string> add)
    {
        if (item?.Via is not { } via)
        {
            return;
        }

        if (item.ViaSourceIds is { } ids && (ids.Count != via.Count || ids.Where((id, j) => via[j]?.Id is { } given && given != id).Any()))
        {
            add($"{field}.via", "Differs from viaSourceIds: give the chain once, or the same sources in both.");
        }

        for (var j = 0; j < via.Count; j++)
        {
            if (via[j] is not { } source)
            {
                add($"{field}.via[{j}]", "Must be a source: its id, externalId, or name and kind.");
                continue;
            }

            if (source.Id is null && source.ExternalId is null || source.Name is not null || source.Kind is not null)
            {
                foreach (var failure in sources.Validate(new SourceRequest(source.Name, source.Kind, null, null, source.Reliability)).Errors)
                {
                    add($"{field}.via[{j}].{failure.PropertyName}", failure.ErrorMessage);
                }
            }

            Key($"{field}.via[{j}].externalId", source.ExternalId, add);
        }
    }

    /// <summary>Each source of a checked chain, as the writer matches it.</summary>
    private static SourceRef[] Via(ImportEvidence item) => item.Via is { } via
        ? [.. via.Select((v, j) => new SourceRef(item.ViaSourceIds?[j] ?? v.Id, v.ExternalId, v.Name?.Trim(), v.Kind, v.Reliability ?? Reliability.F,
            v.Id is not null || item.ViaSourceIds is not null ? $"via[{j}].id" : $"via[{j}].externalId"))]
        : [.. (item.ViaSourceIds ?? []).Select((id, j) => new SourceRef(id, null, null, null, Reliability.F, $"viaSourceIds[{j}]"))];

    /// <summary>
    /// The key of a claim that came with neither id nor externalId: its language and statement, so
    /// that importing a spreadsheet again after fixing its rejected rows adds only those.
    /// </summary>
    public static string MadeKey(string language, string statement) =>
        MadeKeyPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{language}\n{statement.Trim()}")))[..40];

    private static void Key(string field, string? key, Action<string?, string> add)
    {
        if (key is not null && !(key.Length is >= 1 and <= 200 && VisibleText.Any(key) && !key.Contains('\0')))
        {
            add(field, "Must be 1 to 200 characters that show something, without the NUL character (U+0000).");
        }
    }

    private static void Text(string field, string? text, int maxLength, Action<string?, string> add)
    {
        if (text is { } given && given.Length > maxLength)
        {
            add(field, $"Must be at most {maxLength} characters.");
        }
        else if (text is not null && text.Contains('\0'))
        {
            add(field, "Must not contain the NUL character (U+0000).");
        }
    }

    private static void Moment(string field, DateTimeOffset? at, Action<string?, string> add)
    {
        var earliest = ValidationRules.EarliestDate.ToDateTime(TimeOnly.MinValue);
        if (at is { } given && (given.UtcDateTime < earliest || given > DateTimeOffset.UtcNow.AddDays(1)))
        {
            add(field, $"Must be between {ValidationRules.EarliestDate:yyyy-MM-dd} and today (a day's grace for time zones).");
        }
    }

    /// <summary>A given history must read as one path of moves that ends at the claim's status.</summary>
    private static void CheckHistory(IReadOnlyList<ImportStatusChange>? history, ClaimStatus status, Action<string?, string> add)
    {
        if (history is null or { Count: 0 })
        {
            return;
        }

        ClaimStatus? at = null;
        for (var i = 0; i < history.Count; i++)
        {
            var change = history[i];
            if (change is null)
            {
                add($"history[{i}]", "Must be a status change, not null.");
                return;
            }

            if (change.ToStatus is null)
            {
                add($"history[{i}].toStatus", "Required.");
                return;
            }

            if (change.FromStatus != at)
            {
                add($"history[{i}].fromStatus", at is null
                    ? "The first change must have no fromStatus: it is the claim being logged."
                    : $"Must be {at.Value.ToName()}, where the change before left the claim.");
                return;
            }

            if (change.FromStatus == change.ToStatus)
            {
                add($"history[{i}].toStatus", "Must differ from fromStatus.");
                return;
            }

            Text($"history[{i}].note", change.Note, 2000, add);
            Text($"history[{i}].changedBy", change.ChangedBy, 100, add);
            Moment($"history[{i}].changedAt", change.ChangedAt, add);

            at = change.ToStatus;
        }

        if (at != status)
        {
            add("history", $"Must end at the claim's status ({status.ToName()}); the last change is to {at!.Value.ToName()}.");
        }
    }
}
