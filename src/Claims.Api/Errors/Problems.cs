using Claims.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Claims.Api.Errors;

/// <summary>The problem answers handlers return themselves (the exception handler writes the rest).</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what, Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No such {what}.", detail: $"There is no {what} with id {id}.");

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is not valid.");
}
