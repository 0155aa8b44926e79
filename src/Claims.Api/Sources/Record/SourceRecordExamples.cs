using Claims.Api.OpenApi;

namespace Claims.Api.Sources.Record;

/// <summary>Lloyd Austin's record after six of the claims he backed were judged: five borne out, one not.</summary>
internal sealed class SourceRecordExamples : IOpenApiExamples
{
    public void Register(OpenApiExampleRegistry examples)
    {
        var (bound, suggested) = TrackRecord.Suggest(5, 1);
        examples.Add(new SourceRecord(
            SourceExamples.AustinId, Reliability.B, new RecordCounts(5, 1, 0, 0, 2), new RecordCounts(0, 0, 0, 0, 0),
            5, 1, bound, suggested, TrackRecord.Rule));
    }
}
