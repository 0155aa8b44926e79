using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Evidence;
using Claims.Api.Http;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Claims;

/// <summary>Filters, search and order for GET /claims.</summary>
public sealed record ClaimQuery(
    [property: Description("Only claims with one of these statuses (repeat the parameter)."), EnumValues(typeof(ClaimStatus))][FromQuery(Name = "status")] string[]? Status,
    [property: Description("Only claims with all of these tags (repeat the parameter; at most 20, as a claim has)."), MaxLength(ClaimRules.MaxTags), ItemMaxLength(ClaimRules.MaxTagLength)][FromQuery(Name = "tag")] string[]? Tag,
    [property: Description("Only claims in this language (BCP 47, such as uk)."), MaxLength(35)][FromQuery(Name = "language")] string? Language,
    [property: Description("Only claims with evidence from this source.")][FromQuery(Name = "sourceId")] Guid? SourceId,
    [property: Description("With sourceId: only evidence of this stance."), EnumValues(typeof(Stance))][FromQuery(Name = "stance")] string? Stance,
    [property: Description("First reported on or after this day (ISO date).")][FromQuery(Name = "reportedFrom")] DateOnly? ReportedFrom,
    [property: Description("First reported on or before this day (ISO date).")][FromQuery(Name = "reportedTo")] DateOnly? ReportedTo,
    [property: Description("Changed at or after this moment (ISO 8601 with offset).")][FromQuery(Name = "updatedSince")] DateTimeOffset? UpdatedSince,
    [property: Description("Words to search for in statement and summary, in any language."), MaxLength(500)][FromQuery(Name = "q")] string? Q,
    [property: Description("-updatedAt (default), -createdAt, -firstReportedOn, or relevance (the default with q: best match first among the most recently changed matches, 200 unless Search:RelevanceWindow says otherwise)."), AllowedValues(null, "-updatedAt", "-createdAt", "-firstReportedOn", "relevance"), SharedEnum("ClaimSort")][FromQuery(Name = "sort")] string? Sort,
    [property: Description("Page size, 1 to 200. Default 50."), Range(1, 200)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("The nextCursor of the previous page, as given, with the same filters."), MaxLength(CursorProtector.MaxLength)][FromQuery(Name = "cursor")] string? Cursor,
    [property: Description("true: list claims recorded as duplicates of others (duplicate_of) too, each with its canonicalClaimId. Default false: only claims that are no duplicate.")][FromQuery(Name = "includeDuplicates")] bool? IncludeDuplicates = null)
{
    public const string Relevance = "relevance";
    public static readonly string[] Sorts = ["-updatedAt", "-createdAt", "-firstReportedOn", Relevance];

    public int Size => Limit ?? PageRequest.DefaultLimit;

    public string? Text => VisibleText.OrNull(Q);

    public string EffectiveSort => Sort ?? (Text is null ? "-updatedAt" : Relevance);

    public string[] Statuses => [.. (Status ?? []).Distinct().Order(StringComparer.Ordinal)];

    public string[] Tags => [.. ClaimRules.NormalizeTags(Tag).Order(StringComparer.Ordinal)];

    public string? NormalizedLanguage => string.IsNullOrWhiteSpace(Language) ? null : ClaimRules.NormalizeLanguage(Language);

    /// <summary>What a cursor of this query is bound to: the same filters and order, written canonically.</summary>
    public string Scope => string.Join('|', "claims",
        string.Join(',', Statuses), string.Join(',', Tags), NormalizedLanguage, SourceId, Stance,
        ReportedFrom?.DayNumber, ReportedTo?.DayNumber, UpdatedSince?.UtcTicks, Text, EffectiveSort, IncludeDuplicates == true ? "all" : "");

    /// <summary>Whether claims recorded as duplicates are left out.</summary>
    public bool HidesDuplicates => IncludeDuplicates != true;
}

public sealed class ClaimQueryValidator : AbstractValidator<ClaimQuery>
{
    public ClaimQueryValidator()
    {
        RuleForEach(q => q.Status).OneOf<ClaimQuery, ClaimStatus>();
        RuleForEach(q => q.Tag).Must(ClaimRules.IsSlug).WithMessage("Must be a tag slug such as north-korea.");
        RuleFor(q => q.Language).MaximumLength(35).Matches(ClaimRules.LanguageTag())
            .WithMessage("Must be a BCP 47 language tag such as en, uk, ru or ko.");
        RuleFor(q => q.Stance).OneOf<ClaimQuery, Stance>();
        RuleFor(q => q.Stance).Null().When(q => q.SourceId is null).WithMessage("Only together with sourceId: the stance of that source's evidence.");
        RuleFor(q => q.ReportedFrom).NotBeforeEarliest();
        RuleFor(q => q.ReportedTo).NotBeforeEarliest();
        RuleFor(q => q.UpdatedSince).NotBeforeEarliest();
        RuleFor(q => q.ReportedTo).GreaterThanOrEqualTo(q => q.ReportedFrom).When(q => q.ReportedFrom is not null && q.ReportedTo is not null)
            .WithMessage("Must not be before reportedFrom.");
        RuleFor(q => q.Q).MaximumLength(500).NoNulCharacter();
        RuleFor(q => q.Tag!.Length).LessThanOrEqualTo(ClaimRules.MaxTags).When(q => q.Tag is not null).OverridePropertyName("tag")
            .WithMessage(q => $"At most {ClaimRules.MaxTags} tags, as a claim has at most that many; {q.Tag!.Length} were sent.");
        RuleFor(q => q.Sort).Must(sort => sort is null || ClaimQuery.Sorts.Contains(sort))
            .WithMessage($"Must be one of: {string.Join(", ", ClaimQuery.Sorts)}.");
        RuleFor(q => q.Sort).NotEqual(ClaimQuery.Relevance).When(q => q.Text is null).WithMessage("relevance needs q: there is nothing to rank by.");
        RuleFor(q => q.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
    }
}
