using System.Globalization;
using System.Text;
using Claims.Api.Json;
using FluentValidation;

namespace Claims.Api.Validation;

/// <summary>Rules that several request types share.</summary>
public static class ValidationRules
{
    public const int MaxUrlLength = 2048;

    /// <summary>PostgreSQL cannot store U+0000 in text; refuse it here rather than fail at the database.</summary>
    public static IRuleBuilderOptions<T, string?> NoNulCharacter<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => text is null || !text.Contains('\0')).WithMessage("Must not contain the NUL character (U+0000).");

    /// <summary>Optional free text: at most <paramref name="maxLength"/> characters, no NUL.</summary>
    public static IRuleBuilderOptions<T, string?> OptionalText<T>(this IRuleBuilder<T, string?> rule, int maxLength) =>
        rule.MaximumLength(maxLength).NoNulCharacter();

    /// <summary>Required text: something visible, at most <paramref name="maxLength"/> characters, no NUL.</summary>
    public static IRuleBuilderOptions<T, string?> RequiredText<T>(this IRuleBuilder<T, string?> rule, int maxLength) =>
        rule.Must(VisibleText.Any).WithMessage("Required: must not be empty, blank or only invisible characters.")
            .MaximumLength(maxLength).NoNulCharacter();

    /// <summary>
    /// The first day any date or time the API stores may be, for every date and time field alike.
    /// No claim is older; and Npgsql writes the .NET minimum and maximum as PostgreSQL's
    /// -infinity and infinity, which would sort apart from the dates around them.
    /// </summary>
    public static readonly DateOnly EarliestDate = new(1900, 1, 1);

    private static string RangeMessage => $"Must be between {EarliestDate:yyyy-MM-dd} and today (a day's grace for time zones).";

    /// <summary>A day that has happened: from <see cref="EarliestDate"/> to tomorrow (UTC), so that no time zone's today is refused.</summary>
    public static IRuleBuilderOptions<T, DateOnly?> PastDay<T>(this IRuleBuilder<T, DateOnly?> rule) =>
        rule.Must(day => day is null || (day.Value >= EarliestDate && day.Value <= DateOnly.FromDateTime(DateTime.UtcNow.AddDays(1))))
            .WithMessage(RangeMessage);

    /// <summary>A moment that has happened, by the same rule as <see cref="PastDay{T}"/>.</summary>
    public static IRuleBuilderOptions<T, DateTimeOffset?> PastMoment<T>(this IRuleBuilder<T, DateTimeOffset?> rule) =>
        rule.Must(at => at is null || (at.Value.UtcDateTime >= EarliestDate.ToDateTime(TimeOnly.MinValue) && at.Value <= DateTimeOffset.UtcNow.AddDays(1)))
            .WithMessage(RangeMessage);

    /// <summary>A filter's lower bound: a day or moment before <see cref="EarliestDate"/> can only be a mistake.</summary>
    public static IRuleBuilderOptions<T, DateOnly?> NotBeforeEarliest<T>(this IRuleBuilder<T, DateOnly?> rule) =>
        rule.Must(day => day is null || day.Value >= EarliestDate).WithMessage($"Must be on or after {EarliestDate:yyyy-MM-dd}.");

    /// <inheritdoc cref="NotBeforeEarliest{T}(IRuleBuilder{T, DateOnly?})"/>
    public static IRuleBuilderOptions<T, DateTimeOffset?> NotBeforeEarliest<T>(this IRuleBuilder<T, DateTimeOffset?> rule) =>
        rule.Must(at => at is null || at.Value.UtcDateTime >= EarliestDate.ToDateTime(TimeOnly.MinValue)).WithMessage($"Must be on or after {EarliestDate:yyyy-MM-dd}.");

    /// <summary>An optional absolute http or https URL.</summary>
    public static IRuleBuilderOptions<T, string?> OptionalHttpUrl<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(MaxUrlLength)
            .Must(url => url is null || IsHttpUrl(url))
            .WithMessage("Must be an absolute http or https URL without spaces, such as https://suspilne.media/.");

    /// <summary>A required enumeration: nullable in the request only so that its absence can be reported.</summary>
    public static IRuleBuilderOptions<T, TEnum?> RequiredEnum<T, TEnum>(this IRuleBuilder<T, TEnum?> rule) where TEnum : struct, Enum =>
        rule.NotNull().WithMessage($"Required. One of: {EnumNames<TEnum>.AllowedList}.");

    /// <summary>A string that must spell a value of <typeparamref name="TEnum"/> as the API writes it.</summary>
    public static IRuleBuilderOptions<T, string?> OneOf<T, TEnum>(this IRuleBuilder<T, string?> rule) where TEnum : struct, Enum =>
        rule.Must(value => value is null || EnumNames<TEnum>.TryParse(value, out _))
            .WithMessage((_, value) => $"'{value}' is not allowed. Must be one of: {EnumNames<TEnum>.AllowedList}.");

    internal static bool IsHttpUrl(string url) =>
        !url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
        && (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);
}

/// <summary>What counts as text a reader can see.</summary>
public static class VisibleText
{
    /// <summary>
    /// True when the text has a letter, digit, punctuation mark or symbol that shows. Blanks,
    /// format characters (zero-width spaces, direction marks, the byte order mark), control
    /// characters, lone combining marks and the Hangul and Braille fillers that render as nothing do not.
    /// </summary>
    public static bool Any(string? text)
    {
        if (text is null)
        {
            return false;
        }

        foreach (var rune in text.EnumerateRunes())
        {
            if (Shows(rune))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The text trimmed, or null when nothing in it shows.</summary>
    public static string? OrNull(string? text) => Any(text) ? text!.Trim() : null;

    private static bool Shows(Rune rune) => rune.Value is not (0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800)
        && Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => false,
            _ => true,
        };
}

/// <summary>LIKE patterns built from user text.</summary>
public static class Patterns
{
    /// <summary>'%text%' with the LIKE wildcards in the text escaped, so they match themselves.</summary>
    public static string Contains(string text) =>
        "%" + text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";
}
