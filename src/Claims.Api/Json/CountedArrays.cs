using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Claims.Api.Errors;

namespace Claims.Api.Json;

/// <summary>An array in a request body has more items than its property allows.</summary>
public sealed class TooManyItemsException(string message) : JsonException(message);

/// <summary>
/// Arrays in request bodies are counted before a single item is read: the items of an array
/// property with [MaxLength] are tokens skipped over, and only a count within the limit is turned
/// into objects. Reading 40,000 empty evidence items into records cost the API 30 ms of CPU and
/// megabytes per request, 36 times a normal POST, before validation could refuse the count.
/// </summary>
public static class CountedArrays
{
    /// <summary>A contract modifier: gives every list property with [MaxLength] the counting converter.</summary>
    public static void Apply(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)
                && property.AttributeProvider?.GetCustomAttributes(typeof(MaxLengthAttribute), inherit: true).FirstOrDefault() is MaxLengthAttribute max)
            {
                var element = property.PropertyType.GetGenericArguments()[0];
                property.CustomConverter = (JsonConverter)Activator.CreateInstance(typeof(CountedList<>).MakeGenericType(element), max.Length, property.Name)!;
            }
        }
    }

    private sealed class CountedList<T>(int max, string name) : JsonConverter<IReadOnlyList<T>>
    {
        public override IReadOnlyList<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                // Without a message the serializer says it could not convert the value, which
                // ProblemMapping turns into "Must be an array."
                throw new JsonException();
            }

            // The serializer hands a converter the whole array, so a copy of the reader can run
            // through it first. TrySkip, not Skip: a body read from a pipe is not a final block,
            // though the array in it is complete.
            var count = 0;
            var scan = reader;
            while (scan.Read() && scan.TokenType != JsonTokenType.EndArray)
            {
                count++;
                if (!scan.TrySkip())
                {
                    throw new JsonException();
                }
            }

            if (count > max)
            {
                throw new TooManyItemsException($"At most {max} items in {name}; {count} were sent.");
            }

            var items = new List<T>(count);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                try
                {
                    items.Add(JsonSerializer.Deserialize<T>(ref reader, options)!);
                }
                catch (JsonException e) when (e is not TooManyItemsException)
                {
                    // Read on its own, an item's error has a path from the item ($.sourceId);
                    // the client needs it from the body ($.evidence[3].sourceId).
                    throw new JsonException(e.Message, $"$.{name}[{items.Count}]{e.Path?.TrimStart('$')}", e.LineNumber, e.BytePositionInLine, e);
                }
            }

            return items;
        }

        public override void Write(Utf8JsonWriter writer, IReadOnlyList<T> value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var item in value)
            {
                JsonSerializer.Serialize(writer, item, options);
            }

            writer.WriteEndArray();
        }
    }
}
