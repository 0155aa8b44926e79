namespace Claims.Tests.Infrastructure;

/// <summary>
/// Test classes that assert the time bounds (an answer within 6 s, readiness within 2 s, a
/// revocation within 1 s) or that stop PostgreSQL and kill processes: they run one at a time,
/// after the others, so that two busy cores shared with the rest of the suite do not eat their margins.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimeBound
{
    public const string Name = "Time-bound";
}
