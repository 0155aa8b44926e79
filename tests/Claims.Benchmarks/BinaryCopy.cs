using Npgsql;
using NpgsqlTypes;

namespace Claims.Benchmarks;

/// <summary>
/// One binary COPY through Npgsql's importer, with the column types named once per call so that
/// the importer does not infer them from the CLR values. The synchronous calls matter here: the
/// generator writes tens of millions of fields, and on two cores every microsecond this process
/// spends per field is taken from the server.
/// </summary>
internal sealed class BinaryCopy(NpgsqlConnection connection, string copy) : IDisposable
{
    private readonly NpgsqlBinaryImporter _importer = connection.BeginBinaryImport(copy);

    public void StartRow() => _importer.StartRow();

    public void Null() => _importer.WriteNull();

    public void Uuid(Guid value) => _importer.Write(value, NpgsqlDbType.Uuid);

    public void Text(string value) => _importer.Write(value, NpgsqlDbType.Text);

    public void TextOrNull(string? value)
    {
        if (value is null)
        {
            _importer.WriteNull();
        }
        else
        {
            _importer.Write(value, NpgsqlDbType.Text);
        }
    }

    public void TextArray(string[] values) => _importer.Write(values, NpgsqlDbType.Array | NpgsqlDbType.Text);

    public void Int16(short value) => _importer.Write(value, NpgsqlDbType.Smallint);

    public void Int32(int value) => _importer.Write(value, NpgsqlDbType.Integer);

    public void TimestampTz(DateTime utc) => _importer.Write(utc, NpgsqlDbType.TimestampTz);

    public void Date(DateOnly value) => _importer.Write(value, NpgsqlDbType.Date);

    public void Complete() => _importer.Complete();

    /// <summary>Without Complete, the COPY is cancelled and nothing of it is kept.</summary>
    public void Dispose() => _importer.Dispose();
}
