using FluentValidation;

namespace Claims.Api.Infrastructure;

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

    /// <summary>Required text: not blank, at most <paramref name="maxLength"/> characters, no NUL.</summary>
    public static IRuleBuilderOptions<T, string?> RequiredText<T>(this IRuleBuilder<T, string?> rule, int maxLength) =>
        rule.Must(text => !string.IsNullOrWhiteSpace(text)).WithMessage("Required: must not be empty or blank.")
            .MaximumLength(maxLength).NoNulCharacter();

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

    private static bool IsHttpUrl(string url) =>
        !url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
        && (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);
}

/// <summary>LIKE patterns built from user text.</summary>
public static class Patterns
{
    /// <summary>'%text%' with the LIKE wildcards in the text escaped, so they match themselves.</summary>
    public static string Contains(string text) =>
        "%" + text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";
}
