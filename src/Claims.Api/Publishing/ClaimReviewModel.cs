using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Claims.Api.Claims;
using Claims.Api.Http;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Publishing;

/// <summary>
/// A verdict published as a schema.org ClaimReview (https://schema.org/ClaimReview), with the
/// properties Google's fact-check guidance requires and recommends. Each one carries its own
/// @context, in the feed too, so that a harvester may store an element on its own.
/// </summary>
public sealed record ClaimReview(
    [property: JsonPropertyName("@context"), Description("Always https://schema.org."), MaxLength(30)] string Context,
    [property: JsonPropertyName("@type"), Description("Always ClaimReview."), MaxLength(30)] string Type,
    [property: Description("Where the fact-check is published: Publisher:ReviewUrlPattern with the claim's id, or this API's URL of the claim."), MaxLength(2100)] string Url,
    [property: Description("The claim's statement."), MaxLength(2000)] string ClaimReviewed,
    ClaimReviewRating ReviewRating,
    ClaimReviewClaim ItemReviewed,
    [property: Description("The newsroom that reviewed the claim (Publisher:Name, Publisher:Url).")] ClaimReviewParty Author,
    [property: Description("The newsroom that publishes the review; the same as author.")] ClaimReviewParty Publisher,
    [property: Description("When the verdict was reached: the time of the claim's move to its status.")] DateTime DatePublished,
    [property: Description("The claim's language (BCP 47)."), MaxLength(35)] string InLanguage);

/// <summary>The verdict on schema.org's 1 (worst) to 5 (best) scale, and in words (alternateName, what Google shows).</summary>
public sealed record ClaimReviewRating(
    [property: JsonPropertyName("@type"), Description("Always Rating."), MaxLength(30)] string Type,
    [property: Description("1 false, 2 disputed, 3 inconclusive, 5 confirmed."), Range(1, 5)] int RatingValue,
    [property: Description("Always 5."), Range(5, 5)] int BestRating,
    [property: Description("Always 1."), Range(1, 1)] int WorstRating,
    [property: Description("The verdict in words: True, False, Disputed or Unproven."), MaxLength(30)] string AlternateName,
    [property: Description("The same words as alternateName."), MaxLength(30)] string Name);

/// <summary>The claim reviewed, with who made it and where it appeared, from its evidence.</summary>
public sealed record ClaimReviewClaim(
    [property: JsonPropertyName("@type"), Description("Always Claim."), MaxLength(30)] string Type,
    [property: Description("The sources that make the claim (evidence with stance asserts), oldest first. Left out when no source asserts it."), MaxLength(50)]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<ClaimReviewParty>? Author,
    [property: Description("When the claim was made: the claim's firstReportedOn, else the day of the earliest asserting evidence's publishedAt. Left out when neither is known.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    DateOnly? DatePublished,
    [property: Description("The earliest asserting evidence that has a url. Left out when none has.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    ClaimReviewWork? FirstAppearance,
    [property: Description("The other asserting and mentioning evidence that has a url, earliest first. Left out when there is none."), MaxLength(200)]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<ClaimReviewWork>? Appearance);

/// <summary>A Person or an Organization: a source that makes the claim, or the newsroom that reviews it.</summary>
public sealed record ClaimReviewParty(
    [property: JsonPropertyName("@type"), Description("Person for a source of kind person, else Organization."), MaxLength(30)] string Type,
    [property: MaxLength(200)] string Name,
    [property: Description("Left out when unknown."), MaxLength(2048)]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? Url);

/// <summary>Where the claim appeared: an evidence item's url.</summary>
public sealed record ClaimReviewWork(
    [property: JsonPropertyName("@type"), Description("Always CreativeWork."), MaxLength(30)] string Type,
    [property: MaxLength(2048)] string Url,
    [property: Description("The evidence's publishedAt. Left out when unknown.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    DateTime? DatePublished);

/// <summary>A page of published verdicts as a schema.org DataFeed, oldest verdict first.</summary>
public sealed record ClaimReviewFeed(
    [property: JsonPropertyName("@context"), Description("Always https://schema.org."), MaxLength(30)] string Context,
    [property: JsonPropertyName("@type"), Description("Always DataFeed."), MaxLength(30)] string Type,
    [property: Description("This page's ClaimReviews, by the time their verdict was reached, oldest first."), MaxLength(PageRequest.MaxLimit)] IReadOnlyList<ClaimReview> DataFeedElement,
    [property: Description("Pass it as cursor, with the same updatedSince, for the next page; null on the last page."), MaxLength(CursorProtector.MaxLength)] string? NextCursor) : IPage;

/// <summary>Filters and paging of GET /claimreview.</summary>
public sealed record ClaimReviewFeedQuery(
    [property: Description("Only claims whose verdict was reached at or after this moment (ISO 8601 with offset): a harvester passes the datePublished of the last element it stored.")][FromQuery(Name = "updatedSince")] DateTimeOffset? UpdatedSince,
    [property: Description("Page size, 1 to 200. Default 50."), Range(1, 200)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("The nextCursor of the previous page, as given, with the same updatedSince."), MaxLength(CursorProtector.MaxLength)][FromQuery(Name = "cursor")] string? Cursor)
{
    public int Size => Limit ?? PageRequest.DefaultLimit;

    /// <summary>What a cursor of this query is bound to.</summary>
    public string Scope => $"claimreview|since={UpdatedSince?.UtcTicks}";
}

public sealed class ClaimReviewFeedQueryValidator : AbstractValidator<ClaimReviewFeedQuery>
{
    public ClaimReviewFeedQueryValidator()
    {
        RuleFor(q => q.UpdatedSince).NotBeforeEarliest();
        RuleFor(q => q.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
    }
}

/// <summary>How each closing status reads as a rating; the README's table shows the same.</summary>
public static class ClaimReviewRatings
{
    public const int Worst = 1;
    public const int Best = 5;

    /// <summary>
    /// The closing statuses on a truth scale: a disputed claim is stated as settled while credible
    /// sources contradict it, so it leans below the middle, which belongs to inconclusive (no way
    /// to tell); 4 (mostly true) is a verdict the newsroom does not give.
    /// </summary>
    public static readonly IReadOnlyDictionary<ClaimStatus, (int Value, string Words)> Ratings = new Dictionary<ClaimStatus, (int, string)>
    {
        [ClaimStatus.False] = (1, "False"),
        [ClaimStatus.Disputed] = (2, "Disputed"),
        [ClaimStatus.Inconclusive] = (3, "Unproven"),
        [ClaimStatus.Confirmed] = (5, "True"),
    };

    public static ClaimReviewRating Rating(ClaimStatus status)
    {
        var (value, words) = Ratings[status];
        return new ClaimReviewRating("Rating", value, Best, Worst, words, words);
    }
}

/// <summary>Who publishes the verdicts (section "Publisher").</summary>
public sealed class PublisherOptions
{
    public const string Section = "Publisher";

    /// <summary>The newsroom's name, author and publisher of every ClaimReview (default "Claims desk").</summary>
    public string Name { get; set; } = "Claims desk";

    /// <summary>The newsroom's home page, absolute http(s); default this API's own base URL.</summary>
    public string? Url { get; set; }

    /// <summary>
    /// Where a claim's fact-check is published, with {id} for the claim's id, such as
    /// https://factcheck.example.org/claims/{id}; default this API's URL of the claim.
    /// </summary>
    public string? ReviewUrlPattern { get; set; }

    public const string IdPlaceholder = "{id}";
}

public static class PublishingSetup
{
    public static IServiceCollection AddPublishing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PublisherOptions>().Bind(configuration.GetSection(PublisherOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.Name) && o.Name.Length <= 200,
                $"{PublisherOptions.Section}:{nameof(PublisherOptions.Name)} must be 1 to 200 characters.")
            .Validate(o => o.Url is null || ValidationRules.IsHttpUrl(o.Url),
                $"{PublisherOptions.Section}:{nameof(PublisherOptions.Url)} must be an absolute http or https URL.")
            .Validate(o => o.ReviewUrlPattern is null
                    || (o.ReviewUrlPattern.Contains(PublisherOptions.IdPlaceholder, StringComparison.Ordinal)
                        && ValidationRules.IsHttpUrl(o.ReviewUrlPattern.Replace(PublisherOptions.IdPlaceholder, Guid.Empty.ToString(), StringComparison.Ordinal))),
                $"{PublisherOptions.Section}:{nameof(PublisherOptions.ReviewUrlPattern)} must be an absolute http or https URL with {PublisherOptions.IdPlaceholder} where the claim's id goes.")
            .ValidateOnStart();
        return services;
    }
}
