using Microsoft.AspNetCore.Rewrite;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Claims.Api.Desk;

/// <summary>
/// Serves the desk's page: GET / answers Desk/Page/index.html (the page keeps its state in the
/// query string, so / is its only address), and GET /desk/{file} the page's other files, from the
/// copy beside the program (the project copies Desk/Page/ to the build and publish output). The
/// framework's static files middleware answers ETag, Last-Modified, 304 and ranges; every answer
/// is revalidated, so that a new build is picked up at the next load.
/// </summary>
public static class DeskPage
{
    /// <summary>
    /// Scripts, styles, fonts and connections only from this origin, images also as data: URLs,
    /// nothing inline, no plug-ins, no framing, forms only to this origin, no base element.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        + "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Where the page's files are served under, and where they sit in the output.</summary>
    public const string RequestPath = "/desk";

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Desk", "Page");

    public static IApplicationBuilder UseDeskPage(this IApplicationBuilder app)
    {
        var types = new FileExtensionContentTypeProvider();
        // Text is UTF-8 (the page shows Ukrainian, Russian and Korean), said rather than left to guessing.
        types.Mappings[".html"] = "text/html; charset=utf-8";
        types.Mappings[".js"] = "text/javascript; charset=utf-8";
        types.Mappings[".mjs"] = "text/javascript; charset=utf-8";
        types.Mappings[".css"] = "text/css; charset=utf-8";
        types.Mappings[".json"] = "application/json; charset=utf-8";
        types.Mappings[".webmanifest"] = "application/manifest+json; charset=utf-8";

        app.UseRewriter(new RewriteOptions().AddRewrite("^$", RequestPath[1..] + "/index.html", skipRemainingRules: true));
        return app.UseStaticFiles(new StaticFileOptions
        {
            // Fails at start-up when the folder is missing: a build without the page should not run.
            FileProvider = new PhysicalFileProvider(Folder),
            RequestPath = RequestPath,
            ContentTypeProvider = types,
            // Called for every answer the middleware gives, 304 and 412 included.
            OnPrepareResponse = file => AddHeaders(file.Context),
        });
    }

    private static void AddHeaders(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
        // Only over https: sent over http it would be ignored, and it would be wrong for a
        // deployment that serves http on purpose (dotnet run on localhost).
        if (http.Request.IsHttps)
        {
            headers.StrictTransportSecurity = "max-age=31536000";
        }
    }
}
