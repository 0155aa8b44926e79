using System.Globalization;

namespace Claims.Api.Claims;

/// <summary>Settings of the claims feature (section "Claims").</summary>
public sealed class ClaimsOptions
{
    public const string Section = "Claims";

    /// <summary>
    /// The lowest similarity at which POST /claims with checkDuplicates refuses a statement as a
    /// near-duplicate (0.6 by default). The bounds are GET /claims/similar's minScore bounds, so
    /// that the check never asks the look-up for more than the endpoint may.
    /// </summary>
    public double DuplicateScore { get; set; } = 0.6;
}

public static class ClaimsSetup
{
    public static IServiceCollection AddClaims(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClaimsOptions>().Bind(configuration.GetSection(ClaimsOptions.Section))
            .Validate(o => o.DuplicateScore is >= SimilarQuery.LowestMinScore and <= 1.0,
                string.Create(CultureInfo.InvariantCulture, $"{ClaimsOptions.Section}:{nameof(ClaimsOptions.DuplicateScore)} must be between {SimilarQuery.LowestMinScore} and 1."))
            .ValidateOnStart();
        services.AddHostedService<SimilarityBackfill>();
        return services;
    }
}
