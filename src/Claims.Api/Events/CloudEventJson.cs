using System.Text.Json;
using System.Text.Json.Serialization;
using Claims.Api.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;

namespace Claims.Api.Events;

/// <summary>
/// Writes a <see cref="ChangeEvent"/> through the CloudEvents SDK, so that the attributes are
/// checked and spelled as the specification says (the SDK refuses an event without id, source,
/// type or specversion). Each event of a feed page is written this way inside the page's items.
/// </summary>
public sealed class CloudEventJson : JsonConverter<ChangeEvent>
{
    /// <summary>The source of every event: this API, as a URI reference that stays the same across instances and hosts.</summary>
    public const string SourceReference = "/claims-api";

    /// <summary>The actor extension attribute: the name of the API key that made the change.</summary>
    public static readonly CloudEventAttribute Actor = CloudEventAttribute.CreateExtension("actor", CloudEventAttributeType.String);

    private static readonly JsonEventFormatter Formatter = new();

    public static CloudEvent ToCloudEvent(ChangeEvent change)
    {
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0, [Actor])
        {
            Id = change.Id,
            Source = new Uri(change.Source, UriKind.RelativeOrAbsolute),
            Type = change.Type.ToName(),
            Time = new DateTimeOffset(DateTime.SpecifyKind(change.Time, DateTimeKind.Utc)),
            Subject = change.Subject.ToString(),
            DataContentType = change.Datacontenttype,
            Data = change.Data,
        };
        if (change.Actor is not null)
        {
            cloudEvent[Actor] = change.Actor;
        }

        return cloudEvent;
    }

    public override void Write(Utf8JsonWriter writer, ChangeEvent value, JsonSerializerOptions options) =>
        Formatter.ConvertToJsonElement(ToCloudEvent(value)).WriteTo(writer);

    public override ChangeEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var cloudEvent = Formatter.ConvertFromJsonElement(JsonElement.ParseValue(ref reader), [Actor]);
        if (cloudEvent.Type is null || !EnumNames<EventType>.TryParse(cloudEvent.Type, out var type)
            || !Guid.TryParse(cloudEvent.Subject, out var subject) || cloudEvent.Time is not { } time)
        {
            throw new JsonException($"Not an event of this API: type must be one of {EnumNames<EventType>.AllowedList}, subject a uuid, and time given.");
        }

        return new ChangeEvent(
            cloudEvent.Id!, cloudEvent.Source!.ToString(), type, cloudEvent.SpecVersion.VersionId, time.UtcDateTime, subject,
            cloudEvent.DataContentType ?? "application/json", cloudEvent[Actor] as string,
            cloudEvent.Data is JsonElement data ? data : JsonSerializer.SerializeToElement(cloudEvent.Data));
    }
}
