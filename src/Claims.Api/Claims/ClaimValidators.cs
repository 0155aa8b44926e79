using System.Text.RegularExpressions;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Validation;
using FluentValidation;

namespace Claims.Api.Claims;

public static partial class ClaimRules
{
    public const int MaxTags = 20;
    public const int MaxTagLength = 50;
    public const int MaxEvidencePerRequest = 50;

    /// <summary>The editable fields as the database keeps them: the language in its conventional case, the tags normalized.</summary>
    public static ClaimRequest Stored(IClaimFields fields) =>
        new(fields.Statement, fields.Summary, NormalizeLanguage(fields.Language), NormalizeTags(fields.Tags), fields.FirstReportedOn);

    /// <summary>Tags as stored: trimmed, lower-cased, first occurrence kept.</summary>
    public static string[] NormalizeTags(IReadOnlyList<string>? tags) =>
        tags is null ? [] : [.. tags.Select(t => (t ?? "").Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal)];

    public static bool IsSlug(string? tag) =>
        tag is not null && tag.Trim().ToLowerInvariant() is { Length: > 0 and <= MaxTagLength } slug && Slug().IsMatch(slug) && VisibleText.Any(slug);

    // Letters of any script, so that Ukrainian or Korean desks can tag in their own language.
    [GeneratedRegex(@"^[\p{Ll}\p{Lo}\p{Lm}\p{M}\p{Nd}]+(-[\p{Ll}\p{Lo}\p{Lm}\p{M}\p{Nd}]+)*$")]
    private static partial Regex Slug();

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    public static partial Regex LanguageTag();

    /// <summary>
    /// BCP 47 tags are case-insensitive; store and compare them in their conventional case
    /// (language lower, script title, region upper: 'pt-BR', 'sr-Latn'), so filters match however clients write them.
    /// </summary>
    public static string NormalizeLanguage(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            return "en";
        }

        var parts = tag.Trim().Split('-');
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = i == 0 ? parts[i].ToLowerInvariant()
                : parts[i].Length == 4 ? char.ToUpperInvariant(parts[i][0]) + parts[i][1..].ToLowerInvariant()
                : parts[i].Length == 2 || (parts[i].Length == 3 && parts[i].All(char.IsAsciiDigit)) ? parts[i].ToUpperInvariant()
                : parts[i].ToLowerInvariant();
        }

        return string.Join('-', parts);
    }
}

public sealed class ClaimFieldsValidator : AbstractValidator<IClaimFields>
{
    public ClaimFieldsValidator()
    {
        RuleFor(c => c.Statement).RequiredText(2000);
        RuleFor(c => c.Summary).OptionalText(4000);
        RuleFor(c => c.Language)
            .MaximumLength(35)
            .Matches(ClaimRules.LanguageTag()).WithMessage("Must be a BCP 47 language tag such as en, uk, ru, ko or pt-BR.");
        // Bodies over the count are refused as they are read (CountedArrays); these say the
        // same for a request built in code.
        RuleFor(c => c.Tags)
            .Must(tags => tags!.Count <= ClaimRules.MaxTags).When(c => c.Tags is not null)
            .WithMessage(c => $"At most {ClaimRules.MaxTags} tags; {c.Tags!.Count} were sent.");
        RuleForEach(c => c.Tags)
            .Must(ClaimRules.IsSlug)
            .WithMessage($"Must be a slug of letters, digits and single hyphens, at most {ClaimRules.MaxTagLength} characters, such as north-korea.");
        RuleFor(c => c.FirstReportedOn).PastDay();
    }
}

public sealed class CreateClaimRequestValidator : AbstractValidator<CreateClaimRequest>
{
    public CreateClaimRequestValidator(IValidator<EvidenceRequest> evidence)
    {
        Include(new ClaimFieldsValidator());
        RuleFor(c => c.Evidence)
            .Must(items => items!.Count <= ClaimRules.MaxEvidencePerRequest).When(c => c.Evidence is not null)
            .WithMessage(c => $"At most {ClaimRules.MaxEvidencePerRequest} evidence items per request; {c.Evidence!.Count} were sent.");
        RuleForEach(c => c.Evidence).NotNull().SetValidator(evidence);
    }
}

public sealed class ClaimRequestValidator : AbstractValidator<ClaimRequest>
{
    public ClaimRequestValidator() => Include(new ClaimFieldsValidator());
}
