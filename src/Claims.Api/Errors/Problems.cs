using Microsoft.AspNetCore.Http.HttpResults;

namespace Claims.Api.Errors;

/// <summary>The problem answers handlers return themselves (the exception handler writes the rest).</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what, Guid id) =>
        ProblemTypes.NotFound.Result($"There is no {what} with id {id}.");

    public static ValidationProblem Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A validation problem: what each field must be, under <c>errors</c>.</summary>
    public static ValidationProblem Invalid(IDictionary<string, string[]> errors, string? detail = null, IDictionary<string, object?>? extensions = null) =>
        TypedResults.ValidationProblem(errors, detail, type: ProblemTypes.InvalidRequest.Uri, title: ProblemTypes.InvalidRequest.Title, extensions: extensions);
}
