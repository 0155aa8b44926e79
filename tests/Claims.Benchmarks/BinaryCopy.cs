using System.Buffers.Binary;
using System.Text;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// One COPY ... FROM STDIN (FORMAT BINARY), its rows encoded here in PostgreSQL's binary COPY format
/// and sent through Npgsql's raw COPY stream. Npgsql's binary importer resolves a parameter and its
/// type for every value, about a microsecond each, and generate writes some 44 fields a claim: on two
/// cores every microsecond this process spends is taken from the server, and encoding the fields here
/// took the client's CPU for a 100,000-claim load from about 4.5 s to 1 s (see README, Benchmarks).
/// </summary>
internal sealed class BinaryCopy : IDisposable
{
    private const int FlushAt = 60 * 1024;

    /// <summary>timestamptz and date count from 2000-01-01.</summary>
    private static readonly long EpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    private static readonly int EpochDay = new DateOnly(2000, 1, 1).DayNumber;

    private const int TextOid = 25;

    private const int Int8Oid = 20;

    private readonly NpgsqlRawCopyStream _stream;
    private byte[] _buffer = new byte[FlushAt + 16 * 1024];
    private int _length;

    // Where the row being written keeps its field count, filled in once the row is done.
    private int _row = -1;
    private short _fields;
    private bool _completed;

    public BinaryCopy(NpgsqlConnection connection, string copy)
    {
        _stream = connection.BeginRawBinaryCopy(copy);
        // The signature ("PGCOPY\n\377\r\n\0"), no flags, no header extension.
        ReadOnlySpan<byte> signature = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00];
        signature.CopyTo(_buffer);
        _length = signature.Length + 4 + 4;
    }

    public void StartRow()
    {
        EndRow();
        if (_length >= FlushAt)
        {
            Flush();
        }

        _row = _length;
        _length += 2;
        _fields = 0;
    }

    public void Null() => BinaryPrimitives.WriteInt32BigEndian(Field(4), -1);

    public void Uuid(Guid value) => value.TryWriteBytes(Value(16), bigEndian: true, out _);

    public void Text(string value)
    {
        var start = _length;
        Reserve(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var bytes = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(start + 4));
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(start), bytes);
        _length = start + 4 + bytes;
        _fields++;
    }

    /// <summary>A one-dimensional text[] without nulls.</summary>
    public void TextArray(string[] values)
    {
        var start = _length;
        Reserve(4 + 20 + values.Sum(v => 4 + Encoding.UTF8.GetMaxByteCount(v.Length)));
        var header = _buffer.AsSpan(start + 4, 20);
        BinaryPrimitives.WriteInt32BigEndian(header, 1);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], 0);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], TextOid);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], values.Length);
        BinaryPrimitives.WriteInt32BigEndian(header[16..], 1);
        var at = start + 24;
        foreach (var value in values)
        {
            var bytes = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(at + 4));
            BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(at), bytes);
            at += 4 + bytes;
        }

        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(start), at - start - 4);
        _length = at;
        _fields++;
    }

    /// <summary>A one-dimensional bigint[] without nulls; an empty one has no dimensions, as PostgreSQL writes it.</summary>
    public void Int64Array(long[] values)
    {
        var header = values.Length == 0 ? 12 : 20;
        var size = header + values.Length * 12;
        var field = Value(size);
        BinaryPrimitives.WriteInt32BigEndian(field, values.Length == 0 ? 0 : 1);
        BinaryPrimitives.WriteInt32BigEndian(field[4..], 0);
        BinaryPrimitives.WriteInt32BigEndian(field[8..], Int8Oid);
        if (values.Length == 0)
        {
            return;
        }

        BinaryPrimitives.WriteInt32BigEndian(field[12..], values.Length);
        BinaryPrimitives.WriteInt32BigEndian(field[16..], 1);
        var at = header;
        foreach (var value in values)
        {
            BinaryPrimitives.WriteInt32BigEndian(field[at..], 8);
            BinaryPrimitives.WriteInt64BigEndian(field[(at + 4)..], value);
            at += 12;
        }
    }

    public void Int16(short value) => BinaryPrimitives.WriteInt16BigEndian(Value(2), value);

    public void Int32(int value) => BinaryPrimitives.WriteInt32BigEndian(Value(4), value);

    public void Int64(long value) => BinaryPrimitives.WriteInt64BigEndian(Value(8), value);

    /// <summary>A UTC instant, to the microsecond.</summary>
    public void TimestampTz(DateTime utc) => BinaryPrimitives.WriteInt64BigEndian(Value(8), (utc.Ticks - EpochTicks) / TimeSpan.TicksPerMicrosecond);

    public void Date(DateOnly value) => BinaryPrimitives.WriteInt32BigEndian(Value(4), value.DayNumber - EpochDay);

    public void Complete()
    {
        EndRow();
        _row = -1;
        BinaryPrimitives.WriteInt16BigEndian(Field(2), -1);
        _fields--;
        Flush();
        _completed = true;
        // Ends the COPY and waits for the server to confirm it.
        _stream.Dispose();
    }

    /// <summary>Without Complete, the COPY is cancelled and nothing of it is kept.</summary>
    public void Dispose()
    {
        if (!_completed)
        {
            _stream.Cancel();
            _stream.Dispose();
        }
    }

    private void EndRow()
    {
        if (_row >= 0)
        {
            BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_row), _fields);
        }
    }

    /// <summary>A field of a fixed size, its length written: the span to write the value into.</summary>
    private Span<byte> Value(int size)
    {
        BinaryPrimitives.WriteInt32BigEndian(Field(4 + size), size);
        return _buffer.AsSpan(_length - size, size);
    }

    private Span<byte> Field(int bytes)
    {
        Reserve(bytes);
        _length += bytes;
        _fields++;
        return _buffer.AsSpan(_length - bytes, bytes);
    }

    private void Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(2 * _buffer.Length, _length + bytes));
        }
    }

    private void Flush()
    {
        // A row is sent whole: its field count is filled in before any of it leaves.
        _stream.Write(_buffer, 0, _length);
        _length = 0;
    }
}
