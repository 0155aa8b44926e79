using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Claims.Api.Errors;
using Claims.Api.Validation;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Npgsql;
using Swashbuckle.AspNetCore.SwaggerGen;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Claims.Api.Http;

/// <summary>A row of a resource that merge patches change: its version, its editable fields and the resource it answers as.</summary>
public interface IPatchableRow<TFields, TResource>
{
    int Version { get; }

    TFields ToFields();

    TResource ToResource();
}

/// <summary>
/// Says which patch an endpoint takes. Its list of content types stays empty on purpose: routing
/// would otherwise refuse any other content type itself, with a 415 that cannot say what to send;
/// <see cref="MergePatch{TFields, TResource}"/> refuses it instead, and <see cref="MergePatchDocumentation"/>
/// puts the media type in the document. The request type still tells the problem mapping which
/// field a JSON error is in, and the common problems that 413 and 415 can be answered.
/// </summary>
public sealed class MergePatchBody(Type patch) : IAcceptsMetadata
{
    public IReadOnlyList<string> ContentTypes => [];

    public Type Patch => patch;

    Type? IAcceptsMetadata.RequestType => patch;

    public bool IsOptional => false;
}

/// <summary>Declares the request body of every endpoint that takes a merge patch: application/merge-patch+json with its patch schema.</summary>
public sealed class MergePatchDocumentation : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<MergePatchBody>().FirstOrDefault() is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "A JSON merge patch (RFC 7396): the fields to change, each with its new value, or null to remove it.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [MergePatch.ContentType] = new() { Schema = context.SchemaGenerator.GenerateSchema(body.Patch, context.SchemaRepository) },
                },
            };
        }
    }
}

public static class MergePatch
{
    /// <summary>The media type of a JSON Merge Patch (RFC 7396).</summary>
    public const string ContentType = "application/merge-patch+json";

    /// <summary>The endpoint takes a merge patch shaped as <typeparamref name="TPatch"/>, which documents every field as optional.</summary>
    public static RouteHandlerBuilder AcceptsMergePatch<TPatch>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new MergePatchBody(typeof(TPatch)));

    /// <summary>
    /// RFC 7396, section 2: each member of an object patch replaces the target's member of that
    /// name (merged in turn when both are objects), null removes it, and anything else (an array
    /// too) replaces the target whole. The target is changed in place; the patch is left as it is.
    /// </summary>
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject members)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? [];
        foreach (var (name, value) in members)
        {
            result.Remove(name, out var existing);
            if (value is not null)
            {
                result[name] = Apply(existing, value);
            }
        }

        return result;
    }
}

/// <summary>
/// A JSON Merge Patch of the editable fields <typeparamref name="TFields"/> (the body a PUT takes)
/// of a <typeparamref name="TResource"/>, bound from a body sent as application/merge-patch+json.
/// Members are the fields' JSON names, exactly: a value sets the field, null removes it (a field
/// the PUT body requires cannot be removed), an array replaces the whole array. Read-only and
/// unknown members are refused by name rather than ignored, so that a client that sends back what
/// it read learns which fields it cannot change. A body that is not JSON, has a value of the wrong
/// type or is sent as anything else is refused before the handler runs, as a PUT body would be.
/// </summary>
public sealed class MergePatch<TFields, TResource> where TFields : class
{
    private readonly JsonObject _patch;
    private readonly JsonSerializerOptions _json;

    private MergePatch(JsonObject patch, JsonSerializerOptions json, ValidationProblem? invalid)
    {
        _patch = patch;
        _json = json;
        Invalid = invalid;
    }

    /// <summary>The 400 to answer when the body is not an object or names members the patch cannot change.</summary>
    public ValidationProblem? Invalid { get; }

    /// <summary>Minimal APIs bind the parameter with this: 415 and unreadable JSON are thrown as the framework's own body binding throws them.</summary>
    public static async ValueTask<MergePatch<TFields, TResource>> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type)
            || !type.MediaType.Equals(MergePatch.ContentType, StringComparison.OrdinalIgnoreCase)
            || (type.Charset.HasValue && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            throw new BadHttpRequestException(
                $"Send the change as a JSON merge patch (RFC 7396) with Content-Type: {MergePatch.ContentType}, not {context.Request.ContentType ?? "no content type"}: " +
                "a JSON object with the fields to change, each with its new value, or null to remove it.",
                StatusCodes.Status415UnsupportedMediaType);
        }

        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        JsonNode? body;
        try
        {
            // Duplicate members are refused as in every other body: with them the last one would win silently.
            body = await JsonNode.ParseAsync(context.Request.Body,
                documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = json.MaxDepth },
                cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("The merge patch is not valid JSON.", StatusCodes.Status400BadRequest, e);
        }

        if (body is not JsonObject patch)
        {
            return new([], json, ValidationFilter.Problem(
                [new ValidationFailure("body", "Must be a JSON object: the fields to change, each with its new value, or null to remove it.")]));
        }

        var fields = json.GetTypeInfo(typeof(TFields)).Properties;
        var refused = Refusals(patch, fields, json.GetTypeInfo(typeof(TResource)).Properties);
        if (refused.Count > 0)
        {
            return new(patch, json, ValidationFilter.Problem(refused));
        }

        try
        {
            // Every member is a field now: read on its own, the patch has a wrong type where the body of a PUT would.
            patch.Deserialize<TFields>(json);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("A value in the merge patch has the wrong type.", StatusCodes.Status400BadRequest, e);
        }

        return new(patch, json, null);
    }

    /// <summary>
    /// A PATCH once its body is read, answered as a PUT is: the body's refusal, then 428 without
    /// If-Match, one read of the row (404), 412 when it has changed since the client's read, the
    /// patch applied to its fields and checked by the validator of the PUT body (400), and the
    /// write, guarded by the version read. A patch that changes nothing writes nothing and answers
    /// the row as it is, so that sending it again answers the same. <paramref name="what"/> names
    /// the resource in problems; <paramref name="read"/> reads the row (null when there is none);
    /// <paramref name="stored"/> gives fields as the database keeps them, to tell whether the patch
    /// changes anything; <paramref name="write"/> writes them if the row is still at the given
    /// version, and answers the row written or the 412 or 404 to answer.
    /// </summary>
    public async Task<Results<Ok<TResource>, ValidationProblem, ProblemHttpResult>> RunAsync<TRow>(
        HttpContext http, string what, Guid id, NpgsqlDataSource db, IValidator<TFields> validator,
        Func<NpgsqlConnection, Task<TRow?>> read, Func<TFields, TFields> stored,
        Func<NpgsqlConnection, TFields, int, Task<(TRow? Row, ProblemHttpResult? Refusal)>> write,
        CancellationToken ct) where TRow : class, IPatchableRow<TFields, TResource>
    {
        if (Invalid is not null)
        {
            return Invalid;
        }

        if (!IfMatch.TryRead(http.Request, what, out var ifMatch, out var noTag))
        {
            return noTag;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        if (await read(connection) is not { } row)
        {
            return Problems.NotFound(what, id);
        }

        if (!ifMatch.Matches(Versions.ETag(row.Version)))
        {
            return Versions.PreconditionFailed(what, Versions.ETag(row.Version));
        }

        var current = JsonSerializer.SerializeToNode(row.ToFields(), _json);
        var fields = MergePatch.Apply(current?.DeepClone(), _patch).Deserialize<TFields>(_json)!;
        var result = await validator.ValidateAsync(fields, ct);
        if (!result.IsValid)
        {
            return ValidationFilter.Problem(result.Errors);
        }

        // Compared as JSON: the records' own equality would compare their lists by reference.
        if (JsonNode.DeepEquals(current, JsonSerializer.SerializeToNode(stored(fields), _json)))
        {
            return Versions.Ok(http, row.ToResource(), row.Version);
        }

        var (written, refusal) = await write(connection, fields, row.Version);
        return written is null ? refusal! : Versions.Ok(http, written.ToResource(), written.Version);
    }

    private static List<ValidationFailure> Refusals(JsonObject patch, IList<JsonPropertyInfo> fields, IList<JsonPropertyInfo> resource)
    {
        var editable = string.Join(", ", fields.Select(f => f.Name));
        var refused = new List<ValidationFailure>();
        foreach (var (name, value) in patch)
        {
            var field = fields.FirstOrDefault(f => f.Name == name);
            if (field is null)
            {
                var sameLetters = fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
                refused.Add(new ValidationFailure(name, resource.Any(p => p.Name == name)
                    ? $"Read-only: the API sets it, so a patch cannot change it. The fields a patch can change are {editable}."
                    : sameLetters is not null
                        ? $"Unknown member: member names are case-sensitive; did you mean '{sameLetters.Name}'?"
                        : $"Unknown member. The fields a patch can change are {editable}."));
            }
            else if (value is null && field.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true)
            {
                refused.Add(new ValidationFailure(name, "Required: it cannot be removed (null). Send a new value instead, or leave it out to keep it."));
            }
        }

        return refused;
    }
}
