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

    /// <summary>
    /// Whether writes file statements for the near-duplicate look-up (default true). Off only as the
    /// benchmark's baseline for what filing costs a write (the same build both ways, side by side):
    /// claims are then written with NULL similarity keys, which the look-up does not see, and
    /// <see cref="SimilarityBackfill"/> does nothing; a later start with it on files them.
    /// </summary>
    public bool FileSimilarity { get; set; } = true;
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
