using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Claims.Api.Claims;
using Claims.Api.Errors;
using Claims.Api.Evidence;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Provenance;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Claims.Api.Verification;

/// <summary>A move of a claim to another verification status, with the reason.</summary>
public sealed record StatusChangeRequest(
    [property: Description("The new status."), Required] ClaimStatus? Status,
    [property: Description("Why: required for confirmed, disputed, false and inconclusive. At most 2000 characters."), MaxLength(2000)] string? Note);

/// <summary>The small answer HTTP clients poll: where a claim stands and how much evidence of each stance it has.</summary>
public sealed record ClaimStatusView(
    Guid ClaimId,
    ClaimStatus Status,
    [property: MaxLength(2000)] string? Note,
    [property: System.ComponentModel.Description("When the status, its note or the evidence last changed (edits to the statement do not count).")] DateTime UpdatedAt,
    EvidenceCounts EvidenceCounts,
    [property: Description("For each stance, the number of distinct origins behind its evidence: items whose chains end at the same source, or at sources joined by 'affiliated_with' or 'derived_from' relations, count once.")]
    EvidenceCounts IndependentOrigins,
    [property: Description("Set when the claim asked for is recorded as a duplicate (duplicate_of): the canonical claim whose status, note and counts this answer gives. Changing the status is done there.")]
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Guid? CanonicalClaimId = null) : IHasETag;

/// <summary>The payload of a claim.status_changed event: the move, and the status answer after it, as GET /claims/{id}/status gives it.</summary>
public sealed record StatusChangedData(
    ClaimStatus From,
    ClaimStatus To,
    [property: MaxLength(2000)] string? Note,
    [property: MaxLength(100)] string? ChangedBy,
    ClaimStatusView Status);

/// <summary>Many claims' statuses in one request.</summary>
public sealed record StatusesRequest(
    [property: Description("The claim ids, 1 to 500."), Required, MinLength(1), MaxLength(500)] IReadOnlyList<Guid>? Ids);

/// <summary>The statuses of the claims that exist, in the order asked, and the ids that name no claim.</summary>
public sealed record StatusesResponse(
    [property: MaxLength(StatusesRequestValidator.MaxIds)] IReadOnlyList<ClaimStatusView> Items,
    [property: MaxLength(StatusesRequestValidator.MaxIds)] IReadOnlyList<Guid> UnknownIds);

public sealed class StatusesRequestValidator : AbstractValidator<StatusesRequest>
{
    public const int MaxIds = 500;

    public StatusesRequestValidator()
    {
        RuleFor(r => r.Ids).NotNull().WithMessage("Required: the claim ids to look up.");
        RuleFor(r => r.Ids!.Count).InclusiveBetween(1, MaxIds).When(r => r.Ids is not null).OverridePropertyName("ids")
            .WithMessage(r => $"Between 1 and {MaxIds} ids; {r.Ids!.Count} were sent.");
    }
}

/// <summary>One entry of a claim's status history. The first entry, from null, is the claim being logged.</summary>
public sealed record StatusChange(
    Guid Id,
    [property: Description("null in the first entry: the claim being logged.")] ClaimStatus? FromStatus,
    ClaimStatus ToStatus,
    [property: MaxLength(2000)] string? Note,
    DateTime ChangedAt,
    [property: Description("The name of the API key that made the change."), MaxLength(100)] string? ChangedBy);

internal sealed record StatusRow(
    Guid ClaimId, string Status, string? StatusNote, DateTime UpdatedAt, int Version,
    int Asserts, int Supports, int Refutes, int UnableToVerify, int Mentions,
    int? AssertsOrigins, int? SupportsOrigins, int? RefutesOrigins, int? UnableToVerifyOrigins, int? MentionsOrigins,
    Guid? CanonicalClaimId)
{
    /// <summary>The claim whose status this is: the canonical of a duplicate, or the claim itself.</summary>
    public Guid Judged => CanonicalClaimId ?? ClaimId;

    /// <summary>The answer; the origin counts must be there (VerificationApi counts a claim not counted yet first).</summary>
    public ClaimStatusView ToView() => new(
        ClaimId, EnumNames<ClaimStatus>.Parse(Status), StatusNote, UpdatedAt,
        new EvidenceCounts(Asserts, Supports, Refutes, UnableToVerify, Mentions),
        new EvidenceCounts(AssertsOrigins!.Value, SupportsOrigins!.Value, RefutesOrigins!.Value, UnableToVerifyOrigins!.Value, MentionsOrigins!.Value),
        CanonicalClaimId);

    /// <summary>
    /// Changes exactly when what a poller cares about changes: the status, its note, or the
    /// evidence and origin counts (and so their time, status_updated_at, which covers the answer's whole
    /// body); not on edits to the statement. Derived from the content, so every instance of the
    /// API gives the same tag.
    /// </summary>
    public static string ETag(ClaimStatusView view)
    {
        // The origins change with relations between sources too, which do not touch the claim.
        var (counts, origins) = (view.EvidenceCounts, view.IndependentOrigins);
        var content = $"{view.Status.ToName()}\n{view.Note}\n{counts.Asserts},{counts.Supports},{counts.Refutes},{counts.UnableToVerify},{counts.Mentions}\n"
            + $"{origins.Asserts},{origins.Supports},{origins.Refutes},{origins.UnableToVerify},{origins.Mentions}\n{view.UpdatedAt.Ticks}"
            + (view.CanonicalClaimId is { } canonical ? $"\n{canonical}" : "");
        return $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)), 0, 12)}\"";
    }
}

internal sealed record StatusChangeRow(Guid Id, string? FromStatus, string ToStatus, string? Note, DateTime ChangedAt, string? ChangedBy)
{
    public StatusChange ToChange() => new(
        Id, FromStatus is null ? null : EnumNames<ClaimStatus>.Parse(FromStatus), EnumNames<ClaimStatus>.Parse(ToStatus), Note, ChangedAt, ChangedBy);
}

public sealed class StatusChangeRequestValidator : AbstractValidator<StatusChangeRequest>
{
    public StatusChangeRequestValidator()
    {
        RuleFor(r => r.Status).RequiredEnum();
        RuleFor(r => r.Note).OptionalText(2000);
        RuleFor(r => r.Note)
            .Must(VisibleText.Any)
            .When(r => r.Status is not null && Verdicts.NeedsNote(r.Status.Value))
            .WithMessage(r => $"A note saying why is required to mark a claim {r.Status!.Value.ToName()}.");
    }
}

/// <summary>
/// What a move to one status needs, as data: the API enforces it and GET /claims/status-rules
/// hands it to clients (the desk), so that a page can say why before the user submits.
/// </summary>
public sealed record StatusRule(
    ClaimStatus Status,
    [property: Description("Whether the move needs a note saying why.")] bool NeedsNote,
    [property: Description("The stance of which the claim needs at least one evidence item, or null.")] Stance? NeedsEvidence,
    [property: Description("Whether that evidence must come from an origin independent of every 'asserts' item's origin (the setting Claims:IndependentOrigins, on by default).")] bool NeedsIndependentOrigin,
    [property: Description("The rule in words."), MaxLength(400)] string Rule);

/// <summary>Every status's rule, in the order of the statuses.</summary>
public sealed record StatusRules([property: MaxLength(10)] IReadOnlyList<StatusRule> Rules);

/// <summary>The rules a verdict must meet.</summary>
public static class Verdicts
{
    private static readonly StatusRule[] Counted =
    [
        new(ClaimStatus.Unverified, false, null, false, "Any claim can go back to unverified; a note is optional."),
        new(ClaimStatus.InReview, false, null, false, "Any claim can be put in review; a note is optional."),
        new(ClaimStatus.Confirmed, true, Stance.Supports, false, "Confirming needs a note saying why and at least one evidence item whose stance is 'supports'."),
        new(ClaimStatus.Disputed, true, null, false, "Marking a claim disputed needs a note saying why."),
        new(ClaimStatus.False, true, Stance.Refutes, false, "Marking a claim false needs a note saying why and at least one evidence item whose stance is 'refutes'."),
        new(ClaimStatus.Inconclusive, true, null, false, "Marking a claim inconclusive needs a note saying why."),
    ];

    // The default: a claim is not corroborated (or refuted) by its asserter, or a source one with
    // it, saying so again.
    private static readonly StatusRule[] Independent =
    [
        Counted[0], Counted[1],
        Counted[2] with
        {
            NeedsIndependentOrigin = true,
            Rule = "Confirming needs a note saying why and at least one 'supports' evidence item whose origin is independent of the claim's asserters: not a source that asserts it, nor one affiliated with or derived from such a source.",
        },
        Counted[3],
        Counted[4] with
        {
            NeedsIndependentOrigin = true,
            Rule = "Marking a claim false needs a note saying why and at least one 'refutes' evidence item whose origin is independent of the claim's asserters: not a source that asserts it, nor one affiliated with or derived from such a source.",
        },
        Counted[5],
    ];

    /// <summary>The rules in force: with <paramref name="independentOrigins"/> (Claims:IndependentOrigins), supporting and refuting evidence must be independent of the asserters.</summary>
    public static StatusRules For(bool independentOrigins) => new(independentOrigins ? Independent : Counted);

    public static StatusRule RuleOf(ClaimStatus status) => Counted[(int)status];

    /// <summary>The statuses that close the verification work, and so must say why.</summary>
    public static bool NeedsNote(ClaimStatus status) => RuleOf(status).NeedsNote;

    /// <summary>Whether the claim's evidence grounds <paramref name="status"/>, and the items that did not count.</summary>
    internal static (bool Holds, List<DiscountedEvidence> Discounted) Grounds(ClaimStatus status, IReadOnlyList<TracedEvidence> items, bool independentOrigins)
    {
        if (RuleOf(status).NeedsEvidence is not { } stance)
        {
            return (true, []);
        }

        if (!independentOrigins)
        {
            return (items.Any(i => i.Stance == stance.ToName()), []);
        }

        var (independent, discounted) = Origins.Independent(items, stance);
        return (independent.Count > 0, discounted);
    }

    /// <summary>The answer to a status that lacks the evidence it needs, or null when it may be set.</summary>
    internal static ProblemHttpResult? MissingEvidence(ClaimStatus status, IReadOnlyList<TracedEvidence> items, bool independentOrigins)
    {
        var (holds, discounted) = Grounds(status, items, independentOrigins);
        if (holds)
        {
            return null;
        }

        var extensions = new Dictionary<string, object?> { ["discounted"] = discounted };
        return (status, discounted.Count) switch
        {
            (ClaimStatus.Confirmed, 0) => ProblemTypes.ConfirmNeedsSupport.Result(
                "The claim has no evidence whose stance is 'supports'. Link the corroborating source first."),
            (ClaimStatus.Confirmed, _) => ProblemTypes.ConfirmNeedsIndependentSupport.Result(
                $"None of the claim's {discounted.Count} 'supports' item(s) is independent of its asserters; `discounted` says why for each. Link a source that corroborates it on its own account.",
                extensions),
            (_, 0) => ProblemTypes.FalseNeedsRefutation.Result(
                "The claim has no evidence whose stance is 'refutes'. Link the contradicting source first."),
            _ => ProblemTypes.FalseNeedsIndependentRefutation.Result(
                $"None of the claim's {discounted.Count} 'refutes' item(s) is independent of its asserters; `discounted` says why for each. Link a source that contradicts it on its own account.",
                extensions),
        };
    }
}
