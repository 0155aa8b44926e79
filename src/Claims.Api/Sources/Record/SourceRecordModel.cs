using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Claims.Api.Sources.Record;

/// <summary>How the claims a source took a side on ended, claim by claim (a claim counts once however many items link it).</summary>
public sealed record RecordCounts(
    int Confirmed,
    int False,
    int Disputed,
    int Inconclusive,
    [property: Description("Still unverified or in review.")] int Open);

/// <summary>
/// A source's track record: how the claims it backed (asserted or supported) and those it refuted
/// ended, and the reliability grade that record suggests beside the one a person set.
/// </summary>
public sealed record SourceRecord(
    Guid SourceId,
    [property: Description("The grade a person set on the source; the record never changes it.")] Reliability Reliability,
    [property: Description("Claims the source asserted or supported, by how they ended.")] RecordCounts Backed,
    [property: Description("Claims the source refuted, by how they ended.")] RecordCounts Refuted,
    [property: Description("Judged claims the source was right about: backed and confirmed, or refuted and false.")] int BorneOut,
    [property: Description("Judged claims the source was wrong about: backed and false, or refuted and confirmed.")] int Contradicted,
    [property: Description("The lower end of the 95% Wilson interval of borneOut / (borneOut + contradicted): what the record shows at least, allowing for its size; null below the minimum.")] double? LowerBound,
    [property: Description("The grade the record suggests: A to E from lowerBound, F (cannot be judged) below the minimum of judged claims.")] Reliability SuggestedReliability,
    [property: Description("The rule that gave it, in words."), MaxLength(600)] string Rule);

/// <summary>The documented rule from a record to a suggested grade.</summary>
public static class TrackRecord
{
    /// <summary>Fewer judged claims than this say nothing: the suggestion is F, cannot be judged.</summary>
    public const int MinimumJudged = 5;

    // 1.96: the normal quantile of a two-sided 95% interval.
    private const double Z = 1.96;

    // The lowest lower bound for each grade, best first; below the last, E.
    private static readonly (Reliability Grade, double AtLeast)[] Grades =
        [(Reliability.A, 0.80), (Reliability.B, 0.65), (Reliability.C, 0.50), (Reliability.D, 0.35)];

    public static readonly string Rule =
        $"Judged claims are those the source backed (asserted or supported) or refuted that ended confirmed or false; disputed, inconclusive and open claims are not counted. "
        + $"With fewer than {MinimumJudged} judged claims the suggestion is F (cannot be judged). Otherwise it is graded on the lower end of the 95% Wilson interval of the share borne out "
        + "(backed and confirmed, or refuted and false): A from 0.80, B from 0.65, C from 0.50, D from 0.35, E below; so a short record cannot earn a high grade by luck.";

    /// <summary>The lower end of the Wilson score interval for <paramref name="right"/> out of <paramref name="judged"/>.</summary>
    public static double WilsonLowerBound(int right, int judged)
    {
        var p = (double)right / judged;
        var z2 = Z * Z;
        return (p + z2 / (2 * judged) - Z * Math.Sqrt((p * (1 - p) + z2 / (4 * judged)) / judged)) / (1 + z2 / judged);
    }

    public static (double? LowerBound, Reliability Suggested) Suggest(int borneOut, int contradicted)
    {
        var judged = borneOut + contradicted;
        if (judged < MinimumJudged)
        {
            return (null, Reliability.F);
        }

        var bound = Math.Round(WilsonLowerBound(borneOut, judged), 3);
        foreach (var (grade, atLeast) in Grades)
        {
            if (bound >= atLeast)
            {
                return (bound, grade);
            }
        }

        return (bound, Reliability.E);
    }
}

internal sealed record SourceRecordRow(
    string Reliability,
    int BackedConfirmed, int BackedFalse, int BackedDisputed, int BackedInconclusive, int BackedOpen,
    int RefutedConfirmed, int RefutedFalse, int RefutedDisputed, int RefutedInconclusive, int RefutedOpen);
