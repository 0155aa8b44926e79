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

    /// <summary>
    /// How many claims the near-duplicate look-up reads under each of the text's 42 keys, newest
    /// first (300 by default, 10 to 5,000). With <see cref="SimilarityCandidates"/>, what trades
    /// recall for speed: see the README's figures before changing either.
    /// </summary>
    public int SimilarityPerKey { get; set; } = 300;

    /// <summary>
    /// Whether confirming needs 'supports' evidence (and marking false 'refutes' evidence) whose
    /// origin is independent of every 'asserts' item's origin (default true). Off for desks that
    /// do not record chains or relations, where the same source asserting and supporting is
    /// recorded that way on purpose; independentOrigins is reported either way.
    /// </summary>
    public bool IndependentOrigins { get; set; } = true;

    /// <summary>How many of the claims sharing the most keys the look-up scores with similarity() (100 by default, 10 to 1,000).</summary>
    public int SimilarityCandidates { get; set; } = 100;
}

public static class ClaimsSetup
{
    public static IServiceCollection AddClaims(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClaimsOptions>().Bind(configuration.GetSection(ClaimsOptions.Section))
            .Validate(o => o.DuplicateScore is >= SimilarQuery.LowestMinScore and <= 1.0,
                string.Create(CultureInfo.InvariantCulture, $"{ClaimsOptions.Section}:{nameof(ClaimsOptions.DuplicateScore)} must be between {SimilarQuery.LowestMinScore} and 1."))
            .Validate(o => o.SimilarityPerKey is >= 10 and <= 5000,
                $"{ClaimsOptions.Section}:{nameof(ClaimsOptions.SimilarityPerKey)} must be between 10 and 5000.")
            .Validate(o => o.SimilarityCandidates is >= 10 and <= 1000,
                $"{ClaimsOptions.Section}:{nameof(ClaimsOptions.SimilarityCandidates)} must be between 10 and 1000.")
            .ValidateOnStart();
        services.AddHostedService<SimilarityBackfill>();
        services.AddHostedService<Provenance.OriginCountsBackfill>();
        return services;
    }
}
