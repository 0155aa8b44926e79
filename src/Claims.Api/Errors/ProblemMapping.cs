using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Claims.Api.Data;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Validation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Claims.Api.Errors;

/// <summary>
/// Turns the exceptions that bad input can cause (unreadable JSON, unparsable parameters, a row the
/// database refuses) into 4xx problems that say what is wrong, a database that cannot answer into
/// 503 (nothing was changed), and a commit it did not confirm into 504. Anything else stays a 500.
/// </summary>
public sealed partial class ProblemMapping(ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            // The middleware has cleared the endpoint by now; the feature keeps the one that failed.
            BadHttpRequestException bad => FromBadRequest(bad,
                httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType),
            // The framework refuses a charset it cannot decode with this exception rather than a 415.
            InvalidOperationException unreadable when unreadable.Message.StartsWith("Unable to read the request as JSON", StringComparison.Ordinal) =>
                ProblemTypes.UnsupportedMediaType.Details(
                    "The body's charset is not supported. Send JSON encoded as UTF-8: Content-Type: application/json (optionally with charset=utf-8)."),
            CommitUnconfirmedException => ProblemTypes.CommitUnconfirmed.Details(
                "It may or may not be stored. Retry with the same Idempotency-Key, or read before retrying."),
            PostgresException pg => FromPostgres(pg),
            NpgsqlException { InnerException: TimeoutException } => ProblemTypes.DatabaseBusy.Details(
                "The database did not answer in time, or no connection to it came free. " + NothingChanged),
            NpgsqlException { IsTransient: true } => ProblemTypes.DatabaseUnavailable.Details(
                "The database is not reachable. " + NothingChanged),
            _ => null,
        };

        if (problem is null)
        {
            return false;
        }

        if (problem.Status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
        {
            logger.LogWarning(exception, "Database unavailable");
        }
        else if (exception is PostgresException refused)
        {
            // The constraint and table names stay in the log, not in the answer.
            logger.LogInformation("The database refused a request: {Message} ({Constraint})", refused.MessageText, refused.ConstraintName);
        }

        return await WriteAsync(httpContext, problem, exception);
    }

    private const string NothingChanged = "Nothing was changed. Retry in a few seconds.";

    /// <summary>The answer when a request's deadline passed before it could change anything.</summary>
    public static ProblemDetails DeadlinePassed() =>
        ProblemTypes.DeadlineExceeded.Details(
            $"Nothing was changed. Requests get {RequestDeadline.Timeout.TotalSeconds:0} s, body upload included; the database is usually what took longer. Retry in a few seconds.");

    /// <summary>
    /// Writes a problem with its status; one the client can retry (503, 504) says when, in
    /// Retry-After.
    /// </summary>
    public static ValueTask<bool> WriteAsync(HttpContext httpContext, ProblemDetails problem, Exception? exception)
    {
        if (problem.Status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
        {
            httpContext.Response.Headers.RetryAfter = "5";
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return httpContext.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException bad, Type? bodyType)
    {
        if (bad.InnerException is TooManyItemsException tooMany)
        {
            return Validation(ProblemTypes.InvalidRequest, tooMany.Path is null or "$" ? "body" : tooMany.Path.TrimStart('$', '.'), tooMany.Message);
        }

        if (bad.InnerException is JsonException json)
        {
            var field = json.Path is null or "$" ? "body" : json.Path.TrimStart('$', '.');
            return Validation(ProblemTypes.MalformedJson, field, DescribeJsonError(json, bodyType));
        }

        var bind = BindFailure().Match(bad.Message);
        if (bind.Success)
        {
            var type = bind.Groups["type"].Value;
            var expected = type switch
            {
                _ when type.Contains("DateOnly", StringComparison.Ordinal) => "an ISO 8601 date such as 2024-10-23",
                _ when type.Contains("DateTime", StringComparison.Ordinal) => "an ISO 8601 timestamp such as 2024-10-23T14:05:00Z",
                _ when type.Contains("Guid", StringComparison.Ordinal) => "a UUID",
                _ when type.Contains("double", StringComparison.OrdinalIgnoreCase) || type.Contains("decimal", StringComparison.OrdinalIgnoreCase) => "a number",
                _ when type.Contains("int", StringComparison.OrdinalIgnoreCase) => "a whole number",
                _ when type.Contains("bool", StringComparison.OrdinalIgnoreCase) => "true or false",
                _ => "a valid value",
            };
            return Validation(ProblemTypes.InvalidRequest, JsonNamingPolicy.CamelCase.ConvertName(bind.Groups["name"].Value),
                $"'{bind.Groups["value"].Value}' is not {expected}.");
        }

        if (bad.Message.Contains("not provided from body", StringComparison.Ordinal)
            || bad.Message.Contains("no body was provided", StringComparison.Ordinal))
        {
            return Validation(ProblemTypes.InvalidRequest, "body", "A JSON body is required.");
        }

        // Kestrel's own refusals while the body is read: too large (413), too slow (408).
        return ProblemTypes.ForStatus(bad.StatusCode)?.Details(bad.Message) ?? new ProblemDetails { Status = bad.StatusCode, Detail = bad.Message };
    }

    private static ProblemDetails? FromPostgres(PostgresException pg) => pg.SqlState switch
    {
        // Validation should have caught these; the database is the last line, and still a 4xx.
        PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.StringDataRightTruncation
            or PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter
            or PostgresErrorCodes.InvalidTextRepresentation =>
            ProblemTypes.ValueRefused.Details(
                "A value breaks one of the database's rules (a length, a format or an allowed value). Check the request against the documented schema."),
        PostgresErrorCodes.ForeignKeyViolation or PostgresErrorCodes.UniqueViolation =>
            ProblemTypes.StateConflict.Details("Something it refers to was changed or removed meanwhile. Read the resources again and retry."),
        // The statement timeout or a lock wait ran out: the server is busy, not the request wrong.
        PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable =>
            ProblemTypes.DatabaseBusy.Details(NothingChanged),
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected =>
            ProblemTypes.ConcurrentChange.Details("Nothing was changed. Read the resource again and retry."),
        _ when pg.IsTransient => ProblemTypes.DatabaseUnavailable.Details(NothingChanged),
        _ => null,
    };

    /// <summary>
    /// The serializer's conversion messages name .NET types, and often the enclosing record's
    /// rather than the field's: look the field up along the JSON path in the endpoint's body type
    /// and say what JSON it takes.
    /// </summary>
    internal static string DescribeJsonError(JsonException json, Type? bodyType)
    {
        if (json.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "The JSON is nested too deeply: at most 64 levels.";
        }

        if (UnknownProperty().Match(json.Message) is { Success: true } unknown)
        {
            return $"Unknown property '{unknown.Groups["name"].Value}'. Send only the fields this request documents; read-only ones such as id, status or version cannot be set here.";
        }

        if (DuplicateProperty().Match(json.Message) is { Success: true } duplicate)
        {
            return $"The property '{duplicate.Groups["name"].Value}' appears more than once. Send each property once.";
        }

        if (!ConversionFailure().IsMatch(json.Message))
        {
            return json.Path is null ? "The body is not valid JSON." : json.Message;
        }

        if (json.Path is null or "$")
        {
            return "The body must be a JSON object.";
        }

        return FieldType(bodyType, json.Path) is { } fieldType
            ? $"Must be {Describe(fieldType)}."
            : "Has the wrong JSON type.";
    }

    private static Type? FieldType(Type? type, string path)
    {
        foreach (Match step in PathStep().Matches(path))
        {
            if (type is null)
            {
                return null;
            }

            type = step.Groups["name"].Success
                ? type.GetProperty(step.Groups["name"].Value, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType
                : ElementType(type);
        }

        return type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(string) => "a string",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number",
        _ when type == typeof(Guid) => "a UUID such as 0192b8a0-5000-7000-8000-000000000001",
        _ when type == typeof(DateOnly) => $"an ISO 8601 date such as 2024-10-23, between {ValidationRules.EarliestDate:yyyy-MM-dd} and today",
        _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => $"an ISO 8601 timestamp such as 2024-10-23T14:05:00Z, between {ValidationRules.EarliestDate:yyyy-MM-dd} and today",
        _ when type == typeof(bool) => "true or false",
        _ when ElementType(type) is not null => "an array",
        _ => "a JSON object",
    };

    private static HttpValidationProblemDetails Validation(ProblemType type, string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] })
        {
            Type = type.Uri,
            Status = type.Status,
            Title = type.Title,
        };

    [GeneratedRegex("^The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex("^Duplicate property '(?<name>[^']*)'")]
    private static partial Regex DuplicateProperty();

    [GeneratedRegex("^The JSON value could not be converted to ")]
    private static partial Regex ConversionFailure();

    [GeneratedRegex(@"\.(?<name>[A-Za-z_][A-Za-z0-9_]*)|\[\d+\]")]
    private static partial Regex PathStep();

    [GeneratedRegex("""^Failed to bind parameter "(?<type>\S+) (?<name>[^"]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex BindFailure();
}
