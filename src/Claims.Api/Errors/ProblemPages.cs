using System.ComponentModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.Errors;

/// <summary>
/// A problem's <c>type</c> resolves to a page a person can read: GET /problems/{slug} says what
/// the problem means and what to do, GET /problems lists them all. Open to anyone, and the same
/// for everyone, so caches may keep them.
/// </summary>
public static partial class ProblemPages
{
    private const string Html = "text/html; charset=utf-8";

    // The catalogue page, the longest, is about 5 KB.
    private const int MaxPageLength = 64 * 1024;

    public static IServiceCollection AddProblemPages(this IServiceCollection services)
    {
        services.ConfigureSwaggerGen(options => options.OperationFilter<SlugValues>());
        return services;
    }

    public static void MapProblemPages(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("/problems").AllowAnonymous().WithTags("Problems");
        pages.MapGet("", ListProblemTypes).WithName(nameof(ListProblemTypes)).ServesPage()
            .WithSummary("The catalogue of problem types, as a page")
            .WithDescription($"Every error is application/problem+json whose `type` is one of these, relative to the API's address; its `title` is always the one below, and `detail` says what happened this time. Each type's page is GET /problems/{{slug}}.\n\n{ProblemTypes.MarkdownTable()}");
        pages.MapGet("/{slug}", GetProblemType).WithName(nameof(GetProblemType)).ServesPage()
            .WithSummary("What a problem type means and what to do, as a page")
            .WithDescription("The page a problem's `type` points to: its status, its fixed title, what it means and what to do about it.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static RouteHandlerBuilder ServesPage(this RouteHandlerBuilder builder) =>
        builder.Produces<string>(StatusCodes.Status200OK, "text/html").ProducesProblem(StatusCodes.Status429TooManyRequests);

    public static ContentHttpResult ListProblemTypes(HttpContext http)
    {
        var rows = new StringBuilder();
        foreach (var type in ProblemTypes.All)
        {
            rows.Append($"<tr><td><a href=\"{Encode(type.Uri)}\">{Encode(type.Slug)}</a></td><td>{type.Status}</td><td>{Encode(type.Title)}</td></tr>\n");
        }

        return Page(http, "Problem types",
            $"<p>Every error the Claims API answers is <code>application/problem+json</code> whose <code>type</code> is one of these.</p>\n<table>\n<tr><th>type</th><th>status</th><th>title</th></tr>\n{rows}</table>");
    }

    public static Results<ContentHttpResult, ProblemHttpResult> GetProblemType(
        HttpContext http, [Description("The last segment of the problem's type.")] string slug)
    {
        if (ProblemTypes.FromSlug(slug) is not { } type)
        {
            return ProblemTypes.NotFound.Result($"There is no problem type '{slug}'. GET /problems lists them all.");
        }

        return Page(http, type.Title,
            $"<p>Status {type.Status} · type <code>{Encode(type.Uri)}</code></p>\n<p>{Prose(type.Explanation)}</p>\n<p><a href=\"/problems\">All problem types</a></p>");
    }

    private static ContentHttpResult Page(HttpContext http, string title, string body)
    {
        http.Response.Headers.CacheControl = "public, max-age=86400";
        // Our own text only, but a page the API serves should not be able to run anything.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
        return TypedResults.Content(
            $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>{{Encode(title)}} · Claims API</title>
            <style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}td,th{text-align:left;padding:.2rem .6rem .2rem 0;vertical-align:top}</style></head>
            <body>
            <h1>{{Encode(title)}}</h1>
            {{body}}
            </body>
            </html>
            """, Html);
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The explanations are Markdown for the README and the document; on the page, only their `code` needs marking up.</summary>
    private static string Prose(string markdown) => Code().Replace(Encode(markdown), "<code>$1</code>");

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    /// <summary>The slug parameter takes the catalogue's slugs, listed in the document; a page is a few kilobytes.</summary>
    private sealed class SlugValues : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<EndpointNameMetadata>().FirstOrDefault()?.EndpointName;
            if (name is not (nameof(GetProblemType) or nameof(ListProblemTypes)))
            {
                return;
            }

            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue("text/html", out var html) == true
                && html.Schema is OpenApiSchema page)
            {
                page.MaxLength = MaxPageLength;
            }

            if (operation.Parameters?.FirstOrDefault(p => p.Name == "slug")?.Schema is OpenApiSchema schema)
            {
                schema.Enum = [.. ProblemTypes.All.Select(t => (JsonNode)JsonValue.Create(t.Slug))];
            }
        }
    }
}
