using System.Reflection;
using Claims.Api.Errors;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Claims.Api.Validation;

/// <summary>
/// Runs the FluentValidation validator of every handler argument that has one. Decided once per
/// endpoint at start-up, so endpoints without validated arguments pay nothing, and the 400 answer
/// goes into the OpenAPI metadata of those that have.
/// </summary>
public static class ValidationFilter
{
    public static TBuilder WithValidation<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<MethodInfo>().FirstOrDefault() is { } method
                && endpoint.ApplicationServices is { } services
                && FindValidatedArguments(method, services).Length > 0)
            {
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(
                    StatusCodes.Status400BadRequest, typeof(HttpValidationProblemDetails), ["application/problem+json"]));
            }
        });
        builder.AddEndpointFilterFactory(Create);
        return builder;
    }

    private static EndpointFilterDelegate Create(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var validated = FindValidatedArguments(context.MethodInfo, context.ApplicationServices);
        if (validated.Length == 0)
        {
            return next;
        }

        return async invocation =>
        {
            foreach (var (index, validator) in validated)
            {
                if (invocation.Arguments[index] is not { } argument)
                {
                    continue;
                }

                var result = await validator.ValidateAsync(
                    new ValidationContext<object>(argument), invocation.HttpContext.RequestAborted);
                if (!result.IsValid)
                {
                    return Problem(result.Errors);
                }
            }

            return await next(invocation);
        };
    }

    /// <summary>
    /// The first <see cref="MaxErrors"/> errors and how many more there were: the answer stays
    /// small whatever the request holds, and the first few are what a client fixes first anyway.
    /// Handlers that validate themselves (a merge patch, applied first) answer with it too.
    /// </summary>
    public static ValidationProblem Problem(IReadOnlyList<FluentValidation.Results.ValidationFailure> failures)
    {
        var errors = failures.Take(MaxErrors)
            .GroupBy(f => f.PropertyName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).ToArray(), StringComparer.Ordinal);
        var omitted = failures.Count - Math.Min(failures.Count, MaxErrors);
        return omitted == 0
            ? Problems.Invalid(errors)
            : Problems.Invalid(errors,
                detail: $"The first {MaxErrors} of {failures.Count} errors are listed; fix them and send the request again to see the rest.",
                extensions: new Dictionary<string, object?> { ["omittedErrors"] = omitted });
    }

    public const int MaxErrors = 50;

    private static (int Index, IValidator Validator)[] FindValidatedArguments(MethodInfo method, IServiceProvider services) =>
        [.. method.GetParameters()
            .Select((parameter, index) => (index, validator: services.GetService(typeof(IValidator<>).MakeGenericType(parameter.ParameterType)) as IValidator))
            .Where(p => p.validator is not null)
            .Select(p => (p.index, p.validator!))];
}
