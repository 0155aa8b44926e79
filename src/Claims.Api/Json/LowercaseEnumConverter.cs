using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Claims.Api.Json;

/// <summary>
/// Writes enumerations as the snake_case strings the database stores (or a
/// <see cref="JsonStringEnumMemberNameAttribute"/> name), and rejects anything else with a
/// message that lists the allowed values, which the framework's converter does not do.
/// </summary>
public sealed class LowercaseEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            if (text is not null && EnumNames<T>.TryParse(text, out var value))
            {
                return value;
            }

            throw new JsonException($"Must be one of: {EnumNames<T>.AllowedList}.");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(EnumNames<T>.ToName(value));
    }
}

/// <summary>The one spelling of each enumeration value, shared by JSON, SQL parameters and validation messages.</summary>
public static class EnumNames<T> where T : struct, Enum
{
    private static readonly FrozenDictionary<T, string> Names = Enum.GetValues<T>().ToFrozenDictionary(v => v, NameOf);
    private static readonly FrozenDictionary<string, T> Values = Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> All { get; } = [.. Enum.GetValues<T>().Select(v => Names[v])];

    public static string AllowedList { get; } = string.Join(", ", All);

    public static string ToName(T value) => Names[value];

    public static bool TryParse(string text, out T value) => Values.TryGetValue(text, out value);

    public static T Parse(string text) =>
        Values.TryGetValue(text, out var value) ? value : throw new FormatException($"'{text}' is not a {typeof(T).Name}.");

    private static string NameOf(T value)
    {
        var name = value.ToString();
        var attribute = typeof(T).GetField(name)!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>();
        return attribute?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
    }
}

public static class EnumNameExtensions
{
    public static string ToName<T>(this T value) where T : struct, Enum => EnumNames<T>.ToName(value);
}
