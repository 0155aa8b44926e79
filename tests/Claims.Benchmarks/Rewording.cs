using System.Text;

namespace Claims.Benchmarks;

/// <summary>
/// Rewords a statement as another outlet reports the same claim, or as a journalist types a claim that
/// is already logged: a word dropped, added or replaced by a synonym, words reordered, a clause cut or
/// added, punctuation or case changed, a typo, a number restated. The edits stay in the statement's
/// language (a translation is another claim's business, and shares no trigrams anyway).
/// </summary>
public static class Rewording
{
    public enum Edit
    {
        DropWord,
        AddWord,
        Synonym,
        Reorder,
        CutClause,
        AddClause,
        Punctuation,
        Typo,
        Number,
    }

    /// <summary>Synonyms and dropped words are what outlets change most; numbers are rarely restated.</summary>
    private static readonly Edit[] OutletEdits =
    [
        Edit.DropWord, Edit.DropWord, Edit.DropWord, Edit.AddWord, Edit.AddWord, Edit.Synonym, Edit.Synonym, Edit.Synonym, Edit.Synonym,
        Edit.Reorder, Edit.Reorder, Edit.CutClause, Edit.CutClause, Edit.AddClause, Edit.AddClause, Edit.Punctuation, Edit.Punctuation,
        Edit.Typo, Edit.Typo, Edit.Number,
    ];

    /// <summary>The edits issue 13 names for recall probes.</summary>
    private static readonly Edit[] ProbeEdits =
        [Edit.DropWord, Edit.AddWord, Edit.Synonym, Edit.Reorder, Edit.Typo, Edit.Punctuation, Edit.CutClause];

    /// <summary>Another outlet's report of the claim: one to three edits of any kind.</summary>
    public static string AsAnotherOutlet(Random random, string statement, string language) =>
        Apply(random, statement, language, OutletEdits, random.Next(10) switch { < 4 => 1, < 8 => 2, _ => 3 }, null);

    /// <summary>What a journalist about to log the claim again might type: one to three of the probe edits, and their names.</summary>
    public static string AsProbe(Random random, string statement, string language, List<Edit> applied) =>
        Apply(random, statement, language, ProbeEdits, random.Next(20) switch { < 7 => 1, < 15 => 2, _ => 3 }, applied);

    private static string Apply(Random random, string statement, string language, Edit[] kinds, int count, List<Edit>? applied)
    {
        var book = Phrasebook.For(language);
        var text = statement;
        // An edit that does not apply (no number to restate, no clause to cut) gives way to another; so
        // does one more if the edits undid each other.
        for (int done = 0, attempts = 0; (done < count || text == statement) && attempts < 4 * count + 4; attempts++)
        {
            var edit = kinds[random.Next(kinds.Length)];
            var changed = edit switch
            {
                Edit.DropWord => DropWord(random, text, book),
                Edit.AddWord => AddWord(random, text, book),
                Edit.Synonym => Synonym(random, text, book),
                Edit.Reorder => Reorder(random, text, book),
                Edit.CutClause => CutClause(text, book),
                Edit.AddClause => AddClause(random, text, book),
                Edit.Punctuation => Punctuation(random, text, book),
                Edit.Typo => Typo(random, text, book),
                _ => Number(random, text, book),
            };
            if (changed is { Length: >= 12 and <= 2000 } && changed != text)
            {
                text = changed;
                done++;
                applied?.Add(edit);
            }
        }

        return text;
    }

    private static string? DropWord(Random random, string text, Phrasebook book)
    {
        var words = text.Split(' ');
        if (words.Length < 5)
        {
            return null;
        }

        var i = random.Next(words.Length);
        var dropped = words[i];
        var list = words.ToList();
        list.RemoveAt(i);
        if (i == 0)
        {
            if (book.Cased && char.IsUpper(dropped[0]))
            {
                list[0] = Capitalized(list[0]);
            }
        }
        else if (TrailingPunctuationStart(dropped) < dropped.Length)
        {
            // The comma or full stop that ended the dropped word ends the one before it.
            list[i - 1] = list[i - 1].TrimEnd(',', ';', '.') + dropped[TrailingPunctuationStart(dropped)..];
        }

        return string.Join(' ', list);
    }

    private static string? AddWord(Random random, string text, Phrasebook book)
    {
        var words = text.Split(' ').ToList();
        if (words.Count < 2)
        {
            return null;
        }

        words.Insert(1 + random.Next(words.Count - 1), Words.Pick(random, book.Fillers));
        return string.Join(' ', words);
    }

    private static string? Synonym(Random random, string text, Phrasebook book)
    {
        // Reservoir sampling over the occurrences: one pass, no list.
        (int At, string Word, string[] Group) chosen = (0, "", []);
        var seen = 0;
        foreach (var group in book.Synonyms)
        {
            foreach (var word in group)
            {
                var at = text.IndexOf(word, StringComparison.Ordinal);
                // A whole word; Korean particles follow their noun without a space ("북한군이").
                if (at >= 0 && (at == 0 || !char.IsLetterOrDigit(text[at - 1]))
                    && (!book.Cased || at + word.Length == text.Length || !char.IsLetterOrDigit(text[at + word.Length]))
                    && random.Next(++seen) == 0)
                {
                    chosen = (at, word, group);
                }
            }
        }

        if (seen == 0)
        {
            return null;
        }

        var others = chosen.Group.Where(w => w != chosen.Word).ToArray();
        return string.Concat(text.AsSpan(0, chosen.At), Words.Pick(random, others), text.AsSpan(chosen.At + chosen.Word.Length));
    }

    /// <summary>A tail moved to the front ("According to local reports, troops …"), or two neighbouring words swapped.</summary>
    private static string? Reorder(Random random, string text, Phrasebook book)
    {
        if (book.Cased && random.Next(2) == 0 && text.EndsWith('.'))
        {
            var body = text[..^1];
            foreach (var tail in book.Tails)
            {
                if (body.EndsWith(", " + tail, StringComparison.Ordinal) && body.Length > tail.Length + 12)
                {
                    var rest = body[..^(tail.Length + 2)];
                    return Capitalized(tail) + ", " + (StartsWithCommonWord(rest, book) ? Lowered(rest) : rest) + ".";
                }
            }
        }

        var words = text.Split(' ');
        for (var attempt = 0; attempt < 4 && words.Length >= 4; attempt++)
        {
            // Neither the first word (its capital) nor one ending in punctuation.
            var i = 1 + random.Next(words.Length - 2);
            if (TrailingPunctuationStart(words[i]) == words[i].Length && TrailingPunctuationStart(words[i + 1]) == words[i + 1].Length
                && words[i] != words[i + 1])
            {
                (words[i], words[i + 1]) = (words[i + 1], words[i]);
                return string.Join(' ', words);
            }
        }

        return null;
    }

    /// <summary>The last clause cut, if at least half of the statement is left.</summary>
    private static string? CutClause(string text, Phrasebook book)
    {
        var end = text.Length - 1;
        var at = Math.Max(Math.Max(text.LastIndexOf(", ", end, StringComparison.Ordinal), text.LastIndexOf("; ", end, StringComparison.Ordinal)),
            text.LastIndexOf(". ", end, StringComparison.Ordinal));
        if (!book.Cased)
        {
            // Korean tails go on from the verb: "…했다고 주민들이 말했다" loses "고 주민들이 말했다".
            at = Math.Max(at, Math.Max(text.LastIndexOf("다고 ", end, StringComparison.Ordinal), text.LastIndexOf("다는 ", end, StringComparison.Ordinal)) + 1);
        }

        return at >= Math.Max(12, text.Length / 2) ? text[..at] + "." : null;
    }

    private static string? AddClause(Random random, string text, Phrasebook book)
    {
        if (book.Cased)
        {
            return text.TrimEnd('.', '!') + ", " + Words.Pick(random, book.Tails) + ".";
        }

        return text.EndsWith("다.", StringComparison.Ordinal) ? text[..^1] + Words.Pick(random, book.Tails) + "." : null;
    }

    private static string? Punctuation(Random random, string text, Phrasebook book)
    {
        switch (random.Next(book.Cased ? 5 : 3))
        {
            case 0:
                return text.EndsWith('.') ? text[..^1] : text + ".";
            case 1:
                return book.Language == "en" ? "\"" + text + "\"" : book.Cased ? "«" + text + "»" : "“" + text + "”";
            case 2:
                return book.Cased ? text.Replace(",", "", StringComparison.Ordinal) : text.Replace(". ", " ", StringComparison.Ordinal);
            case 3:
                return text.ToLowerInvariant();
            default:
                if (book.Language != "en")
                {
                    return ReplaceFirst(text, ", ", " — ");
                }

                // A headline's capitals.
                var words = text.Split(' ');
                for (var i = 0; i < words.Length; i++)
                {
                    words[i] = Capitalized(words[i]);
                }

                return string.Join(' ', words);
        }
    }

    private static string? Typo(Random random, string text, Phrasebook book)
    {
        var words = text.Split(' ');
        for (var attempt = 0; attempt < 6; attempt++)
        {
            var i = random.Next(words.Length);
            var word = words[i];
            var letters = TrailingPunctuationStart(word);
            if (letters < (book.Cased ? 4 : 2) || !word.AsSpan(0, letters).ContainsAnyExcept(Digits))
            {
                continue;
            }

            var j = random.Next(letters - 1);
            var typo = new StringBuilder(word);
            switch (random.Next(4))
            {
                case 0:
                    (typo[j], typo[j + 1]) = (typo[j + 1], typo[j]);
                    break;
                case 1:
                    typo.Remove(j, 1);
                    break;
                case 2:
                    typo.Insert(j, typo[j]);
                    break;
                default:
                    typo[j] = Neighbour(typo[j]);
                    break;
            }

            words[i] = typo.ToString();
            return string.Join(' ', words);
        }

        return null;
    }

    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");

    /// <summary>The next letter of the same alphabet, as a slip of the finger; for Hangul the syllable with the next final consonant.</summary>
    private static char Neighbour(char c) => c switch
    {
        >= 'a' and < 'z' or >= 'A' and < 'Z' or >= 'а' and < 'я' or >= 'А' and < 'Я' or >= '가' and < '힣' => (char)(c + 1),
        _ => (char)(c - 1),
    };

    /// <summary>"1,500" as "1500", an approximation dropped, or one added: "about 300".</summary>
    private static string? Number(Random random, string text, Phrasebook book)
    {
        var words = text.Split(' ').ToList();
        var i = words.FindIndex(w => w.Length > 0 && char.IsAsciiDigit(w[0]));
        if (i < 0)
        {
            return null;
        }

        if (words[i].Contains(',', StringComparison.Ordinal) && char.IsAsciiDigit(words[i][^1]))
        {
            words[i] = words[i].Replace(",", "", StringComparison.Ordinal);
        }
        else if (i + 1 < words.Count && words[i].All(char.IsAsciiDigit) && words[i + 1].Length == 3 && words[i + 1].All(char.IsAsciiDigit))
        {
            // Thousands grouped with a space ("1 500") written together.
            words[i] += words[i + 1];
            words.RemoveAt(i + 1);
        }
        else if (i > 0 && book.Approximately.Contains(words[i - 1]))
        {
            words.RemoveAt(i - 1);
        }
        else
        {
            words.Insert(i, Words.Pick(random, book.Approximately));
        }

        return string.Join(' ', words);
    }

    /// <summary>Where a word's closing punctuation begins (its length if it has none).</summary>
    private static int TrailingPunctuationStart(string word)
    {
        var end = word.Length;
        while (end > 0 && !char.IsLetterOrDigit(word[end - 1]))
        {
            end--;
        }

        return end;
    }

    private static bool StartsWithCommonWord(string text, Phrasebook book)
    {
        // Ukrainian and Russian statements open with a common word; English ones may open with a name ("North Korean troops").
        if (book.Language != "en")
        {
            return true;
        }

        var space = text.IndexOf(' ', StringComparison.Ordinal);
        return Words.IsCommonWord(space < 0 ? text : text[..space]);
    }

    private static string Capitalized(string word) => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..];

    private static string Lowered(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];

    private static string ReplaceFirst(string text, string what, string with)
    {
        var at = text.IndexOf(what, StringComparison.Ordinal);
        return at < 0 ? text : string.Concat(text.AsSpan(0, at), with, text.AsSpan(at + what.Length));
    }
}
