using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Claims;

/// <summary>GET /claims/similar.</summary>
public sealed record SimilarQuery(
    [property: Description("The statement you are about to log."), Required, MaxLength(2000)][FromQuery(Name = "text")] string? Text,
    [property: Description("How many, 1 to 50. Default 10."), Range(1, 50)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("Lowest similarity to return, 0.1 to 1. Default 0.3."), Range(SimilarQuery.LowestMinScore, 1.0)][FromQuery(Name = "minScore")] double? MinScore)
{
    /// <summary>The lowest minScore, and the lowest Claims:DuplicateScore the settings take.</summary>
    public const double LowestMinScore = 0.1;

    public int Size => Limit ?? 10;

    public double Threshold => MinScore ?? 0.3;
}

public sealed class SimilarQueryValidator : AbstractValidator<SimilarQuery>
{
    public SimilarQueryValidator()
    {
        RuleFor(q => q.Text).RequiredText(2000);
        RuleFor(q => q.Limit).InclusiveBetween(1, 50);
        RuleFor(q => q.MinScore).InclusiveBetween(SimilarQuery.LowestMinScore, 1.0);
    }
}
