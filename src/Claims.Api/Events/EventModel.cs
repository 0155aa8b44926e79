using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Events;

/// <summary>What happened: the CloudEvents <c>type</c> of an event, spelled exactly as here.</summary>
public enum EventType
{
    /// <summary>A claim was logged; data is the claim with its evidence, as GET /claims/{id} gives it.</summary>
    [JsonStringEnumMemberName("claim.created")] ClaimCreated,
    /// <summary>A claim's editable fields changed (PUT, PATCH); data is the claim without its evidence, as PUT answers it.</summary>
    [JsonStringEnumMemberName("claim.updated")] ClaimUpdated,
    /// <summary>A claim was deleted with its evidence and history; data is {"id"}.</summary>
    [JsonStringEnumMemberName("claim.deleted")] ClaimDeleted,
    /// <summary>A claim moved to another status; data is {from, to, note, changedBy, status}.</summary>
    [JsonStringEnumMemberName("claim.status_changed")] ClaimStatusChanged,
    /// <summary>Two claims were related (duplicate_of, contradicts, refines, related); data is the relation, subject its id, claimId the claim it was recorded from.</summary>
    [JsonStringEnumMemberName("claim.relation_added")] ClaimRelationAdded,
    /// <summary>A relation between claims was removed; data is {"id", "claimId", "relatedClaimId"}.</summary>
    [JsonStringEnumMemberName("claim.relation_removed")] ClaimRelationRemoved,
    /// <summary>Evidence was linked to a claim; data is the evidence item.</summary>
    [JsonStringEnumMemberName("evidence.added")] EvidenceAdded,
    /// <summary>Evidence was unlinked; data is {"id", "claimId"}.</summary>
    [JsonStringEnumMemberName("evidence.removed")] EvidenceRemoved,
    /// <summary>A source was logged; data is the source.</summary>
    [JsonStringEnumMemberName("source.created")] SourceCreated,
    /// <summary>A source's fields changed; data is the source.</summary>
    [JsonStringEnumMemberName("source.updated")] SourceUpdated,
    /// <summary>A source was deleted; data is {"id"}.</summary>
    [JsonStringEnumMemberName("source.deleted")] SourceDeleted,
    /// <summary>Two sources were related (affiliated_with, cites, derived_from); data is the relation, subject its id.</summary>
    [JsonStringEnumMemberName("source.relation_added")] SourceRelationAdded,
    /// <summary>A relation between sources was removed; data is {"id", "sourceId", "relatedSourceId"}.</summary>
    [JsonStringEnumMemberName("source.relation_removed")] SourceRelationRemoved,
}

/// <summary>An event to append in the transaction of the change it records.</summary>
/// <param name="Type">What happened.</param>
/// <param name="Subject">The claim's or source's id; for evidence, the evidence item's.</param>
/// <param name="ClaimId">The claim it concerns, for the claimId filter; null for sources.</param>
/// <param name="Data">The payload, serialized with the API's JSON options.</param>
public sealed record NewEvent(EventType Type, Guid Subject, Guid? ClaimId, object Data);

/// <summary>What a deleted claim or source leaves in its event: its id.</summary>
public sealed record Tombstone(Guid Id);

/// <summary>What unlinked evidence leaves in its event.</summary>
public sealed record EvidenceTombstone(Guid Id, Guid ClaimId);

/// <summary>
/// A change as a CloudEvent (CloudEvents 1.0, JSON format), written by the CloudEvents SDK's
/// formatter: the properties are the event's context attributes, named as the specification names them.
/// </summary>
[JsonConverter(typeof(CloudEventJson))]
public sealed record ChangeEvent(
    [property: Description("The event's position as a decimal string: increasing in commit order, so pass the last one you saw as after=."), MaxLength(20)] string Id,
    [property: Description("Always /claims-api: this API."), MaxLength(100)] string Source,
    EventType Type,
    [property: Description("The CloudEvents version: 1.0."), MaxLength(10)] string Specversion,
    [property: Description("When the change was made.")] DateTime Time,
    [property: Description("The id of the claim or source that changed; for evidence, the evidence item's.")] Guid Subject,
    [property: Description("Always application/json."), MaxLength(100)] string Datacontenttype,
    [property: Description("The name of the API key that made the change (a CloudEvents extension attribute); absent when unknown."), MaxLength(100)]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? Actor,
    [property: Description("What a client needs without a second request: the claim, source or evidence item as the API answers it; {id} (with claimId for evidence) for a deletion; {from, to, note, changedBy, status} for a status change, status being the answer of GET /claims/{id}/status.")]
    JsonElement Data);

/// <summary>A page of the changes feed, oldest first.</summary>
public sealed record EventPage(
    [property: MaxLength(PageRequest.MaxLimit)] IReadOnlyList<ChangeEvent> Items,
    [property: Description("The id of the last event in this page: ask again with after= set to it. Null when the page is empty: nothing newer yet, ask again later with the same after. A full page means more may be waiting."), MaxLength(20)]
    string? NextCursor) : IPage
{
    string IPage.CursorParameter => "after";
}

/// <summary>Which events a reader wants: any of the types (all when empty), of one claim or of all.</summary>
public sealed record EventFilter(IReadOnlyList<EventType> Types, Guid? ClaimId)
{
    public static readonly EventFilter All = new([], null);
}

/// <summary>The query of GET /events (the live stream takes the same filters).</summary>
public sealed record EventQuery(
    [property: Description("Only events after this position: the id of the last event you saw (default 0: from the oldest event kept). A position below what the retention purge deleted is refused with 410 events-purged."), Range(0, long.MaxValue)][FromQuery(Name = "after")] long? After,
    [property: Description("Only events of these types (repeat the parameter)."), EnumValues(typeof(EventType))][FromQuery(Name = "type")] string[]? Type,
    [property: Description("Only events of this claim: the claim's own events and its evidence's.")][FromQuery(Name = "claimId")] Guid? ClaimId,
    [property: Description("Page size, 1 to 200. Default 50."), Range(1, 200)][FromQuery(Name = "limit")] int? Limit)
{
    public int Size => Limit ?? PageRequest.DefaultLimit;

    public long Position => After ?? 0;

    /// <summary>The filter; call only once the query is valid.</summary>
    public EventFilter Filter => new([.. (Type ?? []).Distinct().Select(EnumNames<EventType>.Parse)], ClaimId);
}

public sealed class EventQueryValidator : AbstractValidator<EventQuery>
{
    public EventQueryValidator()
    {
        RuleFor(q => q.After).GreaterThanOrEqualTo(0);
        RuleForEach(q => q.Type).OneOf<EventQuery, EventType>();
        RuleFor(q => q.Type!.Length).LessThanOrEqualTo(Enum.GetValues<EventType>().Length).When(q => q.Type is not null).OverridePropertyName("type")
            .WithMessage(q => $"At most {Enum.GetValues<EventType>().Length} types, one of each; {q.Type!.Length} were sent.");
        RuleFor(q => q.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
    }
}
