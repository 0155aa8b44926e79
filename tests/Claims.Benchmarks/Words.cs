using System.Globalization;
using System.Text;

namespace Claims.Benchmarks;

/// <summary>Word pools for generated claims: varied enough that search terms have realistic spreads.</summary>
public static class Words
{
    public static readonly string[] SourceNames =
    [
        "Suspilne", "Hromadske", "Kyiv Independent", "Ukrainska Pravda", "Reuters", "Associated Press", "Yonhap", "NK News",
        "Business Insider", "BBC Monitoring", "Meduza", "TASS", "RIA Novosti", "Ministry of Defence", "General Staff", "RAND",
        "ISW", "Bellingcat", "Telegram channel", "Regional governor", "Border guard service", "Anonymous official", "Satellite imagery analyst",
    ];

    public static readonly string[] SourceKinds = ["person", "outlet", "outlet", "outlet", "government", "organization", "document", "social_media", "anonymous"];
    public static readonly string[] Reliabilities = ["A", "B", "B", "C", "C", "C", "D", "E", "F", "F"];
    public static readonly string[] Stances = ["asserts", "asserts", "supports", "mentions", "mentions", "unable_to_verify", "refutes"];

    public static readonly string[] Quotes =
    [
        "there is evidence", "we cannot confirm these reports", "sources say the unit left its base", "this is a fabrication",
        "the images were taken last week", "according to people familiar with the matter", "no such order was given",
    ];

    public static readonly string[] Summaries =
    [
        "reported by two outlets citing anonymous sources", "official statement, no evidence shown", "video geolocated by volunteers",
        "contradicted by the ministry", "single source, unverified", "satellite images appear to confirm movement",
    ];

    // Spelled as they stand inside a sentence; the first letter of a sentence is raised when written.
    private static readonly string[] Subjects =
    [
        "North Korean troops", "North Korean soldiers", "Russian forces", "Russian troops", "Ukrainian drones", "a convoy of trucks",
        "two battalions", "Wagner fighters", "officials in Pyongyang", "the regional governor", "air defence units", "naval drones",
        "engineers", "military police", "conscripts", "artillery crews", "special forces", "foreign volunteers", "railway workers",
        "border guards", "a cargo ship", "hackers", "medical teams", "instructors", "intelligence officers", "a reconnaissance group",
        "mobilised reservists", "Ukrainian brigades", "tank crews", "a helicopter", "the local administration", "volunteers",
        "North Korean officers", "an assault unit", "marines", "partisans", "sappers", "a drone operator", "the garrison", "paratroopers",
        "Belarusian instructors", "Chechen troops", "a sniper team", "a column of tanks", "electronic warfare units", "contract soldiers",
        "mine-clearing teams", "Rosgvardia officers", "prison recruits", "Storm-Z fighters", "territorial defence units", "police officers",
        "firefighters", "rescue workers", "a Russian patrol", "a Ukrainian patrol", "coastal defence units", "drone crews", "signallers",
        "a mechanised brigade", "logistics troops", "a medical convoy", "snipers", "Kadyrov's fighters", "the 3rd Assault Brigade",
    ];

    // Followed by a place.
    private static readonly string[] Verbs =
    [
        "are training in", "were seen near", "deserted from", "arrived in", "withdrew from", "shelled", "attacked", "are building defences in",
        "crossed into", "captured positions near", "were redeployed to", "delivered ammunition to", "evacuated civilians from",
        "were ambushed near", "are stationed in", "set fire to a depot in", "intercepted missiles over", "surrendered near",
        "mined the roads around", "blew up a bridge near", "restored power in", "set up checkpoints around", "dug trenches outside",
        "were filmed leaving", "took up positions in", "struck a fuel depot in", "repelled an assault on", "left equipment behind in",
        "requisitioned houses in", "shot down a drone over",
        "launched drones from", "were shelled near", "regained control of", "lost control of", "opened fire on", "moved artillery to",
        "set up a command post in", "stormed", "were pushed back from", "camped near", "were evacuated from", "seized a school in",
        "occupied a factory in", "looted shops in", "fired rockets at", "bombed", "were withdrawn from", "advanced towards",
        "fortified positions near", "jammed radio signals around",
    ];

    // Complete without a place: followed by a distance from one.
    private static readonly string[] Movements =
    [
        "were spotted", "dug in", "set up camp", "came under fire", "regrouped", "were photographed", "lost two vehicles", "laid mines",
        "were seen moving", "built a pontoon crossing",
        "held a line", "fired on a convoy", "were resupplied", "abandoned a tank", "set up a field hospital", "were intercepted",
    ];

    // What a number counts: "about 300 soldiers".
    private static readonly string[] Units =
    [
        "soldiers", "troops", "North Korean soldiers", "conscripts", "drones", "tanks", "armoured vehicles", "trucks", "civilians",
        "prisoners", "mercenaries", "paratroopers", "shells", "missiles",
    ];

    private static readonly string[] Approximately = ["about", "around", "at least", "up to", "more than", "nearly", "some"];
    private static readonly string[] Directions = ["north of", "south of", "east of", "west of", "north-east of", "south-west of", "from"];

    private static readonly string[] Places =
    [
        "Kursk", "Belgorod", "Kharkiv", "Pokrovsk", "Zaporizhzhia", "Kherson", "Donetsk", "Luhansk", "Crimea", "Sevastopol",
        "Primorsky Krai", "Vladivostok", "the Far East", "Rostov", "Bryansk", "Sumy", "Chernihiv", "Odesa", "the border", "a training ground",
        "Kupiansk", "Toretsk", "Mariupol", "Melitopol", "Avdiivka",
        "Huliaipole", "Orikhiv", "Kramatorsk", "Sloviansk", "Bakhmut", "Chasiv Yar", "Vovchansk", "Sudzha", "Lyman", "Siversk",
        "Kurakhove", "Velyka Novosilka", "Nikopol", "Enerhodar", "Dnipro",
    ];

    private static readonly string[] Regions = ["Kursk", "Sumy", "Kharkiv", "Donetsk", "Zaporizhzhia", "Belgorod", "Bryansk", "Kherson"];

    private static readonly string[] Leads =
    [
        "according to local reports,", "on Tuesday", "overnight", "earlier this week", "local channels claim that", "residents say",
        "a regional official said that", "unverified posts claim that", "satellite images suggest that", "for the second time this month",
        "on Monday", "on Wednesday", "on Friday", "late on Sunday", "according to the governor,", "a military blogger claims that",
        "witnesses say", "according to Ukrainian intelligence,", "the general staff says that", "local media report that",
    ];

    public static readonly string[] EnglishTails =
    [
        "according to local reports", "citing anonymous sources", "as shown in a video posted online", "officials said on Tuesday",
        "in the early hours of the morning", "despite earlier denials", "for the second time this week", "satellite images suggest",
        "but this could not be verified", "a statement said", "residents told reporters", "after heavy fighting",
        "the ministry denied it", "two days after the first reports", "while talks were under way", "a blogger wrote",
        "a local official said", "according to a Telegram channel", "a military blogger claimed", "the general staff said",
        "according to Ukrainian intelligence", "according to the regional governor", "a spokesman said", "the mayor said", "witnesses said",
        "in a post on X", "according to a leaked document", "citing a military source", "local media reported on Monday",
        "on Wednesday evening", "on Friday morning", "late on Sunday", "according to drone footage", "the report said",
        "monitors said", "as fighting continued",
    ];

    private static readonly string[] Joins = ["; ", ", while ", ", and ", ". Meanwhile, ", ". ", ", after "];

    private static readonly string[] TagPool =
    [
        "north-korea", "russia", "ukraine", "troops", "desertion", "training", "drones", "artillery", "air-defence", "kursk", "kharkiv",
        "crimea", "sanctions", "ammunition", "navy", "border", "casualties", "prisoners", "refinery", "energy", "evacuation", "cyber",
        "mobilization", "wagner", "satellite", "video", "official-statement", "anonymous-sources", "disinformation", "logistics",
    ];

    // Made-up village names from Ukrainian-sounding syllables: real place names would also match
    // the fixed Places and each other, and a search for one village should find only its own claims.
    // Each syllable also in Cyrillic, the endings in the genitive that Ukrainian and Russian
    // statements need after "біля" or "у": Borakivske is "біля Бораківського", "у Бораковского".
    private static readonly string[] Onsets =
    [
        "Bor", "Ber", "Vyl", "Vys", "Hor", "Hlyn", "Dub", "Dov", "Zel", "Zhur", "Kam", "Kor", "Kryv", "Lys", "Lyp", "Mal", "Myr", "Nov",
        "Ozer", "Ol", "Pol", "Pryp", "Ros", "Rud", "Sos", "Stav", "Tern", "Tar", "Khol", "Khm", "Chor", "Cher", "Shyr", "Shum", "Yab",
        "Yas", "Hrab", "Hus", "Lozh", "Mokr", "Pisk", "Sad", "Bil", "Zhov", "Krut",
    ];

    private static readonly string[] UkrainianOnsets =
    [
        "Бор", "Бер", "Вил", "Вис", "Гор", "Глин", "Дуб", "Дов", "Зел", "Жур", "Кам", "Кор", "Крив", "Лис", "Лип", "Мал", "Мир", "Нов",
        "Озер", "Ол", "Пол", "Прип", "Рос", "Руд", "Сос", "Став", "Терн", "Тар", "Хол", "Хм", "Чор", "Чер", "Шир", "Шум", "Яб",
        "Яс", "Граб", "Гус", "Лож", "Мокр", "Піск", "Сад", "Біл", "Жов", "Крут",
    ];

    private static readonly string[] Middles = ["o", "a", "y", "iv", "an", "ov", "en", "ush", "ak", "ets", "ol", "yn"];
    private static readonly string[] UkrainianMiddles = ["о", "а", "и", "ів", "ан", "ов", "ен", "уш", "ак", "ец", "ол", "ин"];

    private static readonly string[] Endings =
    [
        "ivka", "ivtsi", "ove", "ne", "yne", "ychi", "ytsia", "any", "yky", "ky", "sk", "horod", "pil", "yn", "ets", "ivske", "anka", "ianka",
    ];

    private static readonly string[] UkrainianGenitives =
    [
        "івки", "івців", "ового", "ного", "иного", "ичів", "иці", "ан", "иків", "ків", "ська", "города", "поля", "ина", "ця", "івського", "анки", "янки",
    ];

    private static readonly string[] RussianGenitives =
    [
        "овки", "овцев", "ового", "ного", "иного", "ичей", "ицы", "ан", "иков", "ков", "ска", "города", "поля", "ина", "ца", "овского", "анки", "янки",
    ];

    private static readonly (string[] Latin, string[] Ukrainian, string[] Russian) AllVillages = MakeVillages(3_000);
    private static readonly string[] Villages = AllVillages.Latin;

    /// <summary>The 3,000 villages in the genitive, for Ukrainian statements.</summary>
    public static string[] UkrainianVillages => AllVillages.Ukrainian;

    /// <summary>The 3,000 villages in the genitive, for Russian statements.</summary>
    public static string[] RussianVillages => AllVillages.Russian;

    // Words that open English statements and are not names: moved inside a sentence they take a small letter.
    private static readonly HashSet<string> CommonOpenings = Subjects.Concat(Approximately).Concat(Leads).Append("in")
        .Select(p => p.Split(' ')[0]).Where(w => char.IsLower(w[0])).ToHashSet(StringComparer.OrdinalIgnoreCase);

    [ThreadStatic]
    private static StringBuilder? t_builder;

    public static bool IsCommonWord(string word) => CommonOpenings.Contains(word);

    /// <summary>
    /// A village that generated statements mention as often as any other of the 3,000 (a fifth of English
    /// statements name one; Ukrainian and Russian ones name villages in Cyrillic): a rare search term.
    /// Claim number 1 always mentions it.
    /// </summary>
    public static string RareTerm => Villages[0];

    public static string Pick(Random random, string[] pool) => pool[random.Next(pool.Length)];

    /// <summary>A statement of 40 to 400 characters; about a fifth not in English. A village given is mentioned in English.</summary>
    public static (string Statement, string Language) Statement(Random random, string? village = null)
    {
        var builder = t_builder ??= new StringBuilder(512);
        builder.Clear();
        var roll = village is null ? random.Next(100) : 99;
        var language = roll switch
        {
            < 8 => "uk",
            < 14 => "ru",
            < 19 => "ko",
            _ => "en",
        };

        var book = Phrasebook.For(language);
        if (language == "en")
        {
            English(random, builder, village ?? (random.Next(5) == 0 ? Pick(random, Villages) : null));
        }
        else
        {
            book.Write(random, builder);
        }

        while (builder.Length < 40)
        {
            book.Pad(random, builder);
        }

        var text = builder.Length > 400 ? builder.ToString(0, 400).TrimEnd() : builder.ToString();
        return (text, language);
    }

    /// <summary>One to three clauses in varying order and joins; the village, if any, stands in for one clause's place.</summary>
    private static void English(Random random, StringBuilder builder, string? village)
    {
        var clauses = random.Next(20) switch { < 5 => 1, < 14 => 2, _ => 3 };
        var villageClause = random.Next(clauses);
        var start = builder.Length;
        if (random.Next(5) == 0)
        {
            builder.Append(Pick(random, Leads)).Append(' ');
        }

        for (var i = 0; i < clauses; i++)
        {
            if (i > 0)
            {
                builder.Append(Pick(random, Joins));
            }

            var sentenceStart = builder.Length;
            var place = i == villageClause && village is not null ? VillagePlace(random, village) : Pick(random, Places);
            var form = random.Next(10);
            // "in Kursk, ..." reads only at the start of a sentence or after a comma or semicolon.
            if (form == 9 && sentenceStart != start && builder[sentenceStart - 2] is not ('.' or ',' or ';'))
            {
                form = 0;
            }

            switch (form)
            {
                case < 5:
                    Subject(random, builder, Verbs).Append(' ').Append(place);
                    break;
                case < 7:
                    builder.Append(Pick(random, Approximately)).Append(' ').Append(Count(random)).Append(' ').Append(Pick(random, Units))
                        .Append(' ').Append(Pick(random, Verbs)).Append(' ').Append(place);
                    break;
                case < 9:
                    Subject(random, builder, Movements).Append(' ').Append(1 + random.Next(40)).Append(" km ").Append(Pick(random, Directions))
                        .Append(' ').Append(place);
                    break;
                default:
                    Subject(random, builder.Append("in ").Append(place).Append(", "), Movements);
                    break;
            }

            if (random.Next(5) < 2)
            {
                builder.Append(' ').Append(When(random, "en"));
            }

            if (sentenceStart == start || builder[sentenceStart - 2] == '.')
            {
                builder[sentenceStart] = char.ToUpperInvariant(builder[sentenceStart]);
            }

            if (random.Next(4) == 0)
            {
                builder.Append(", ").Append(Pick(random, EnglishTails));
            }
        }

        builder[start] = char.ToUpperInvariant(builder[start]);
        builder.Append('.');
    }

    /// <summary>A subject and a verb from the pool, the verb made singular after "a ..." or "the ...".</summary>
    private static StringBuilder Subject(Random random, StringBuilder builder, string[] verbs)
    {
        var subject = Pick(random, Subjects);
        var verb = Pick(random, verbs);
        builder.Append(subject).Append(' ');
        if (subject.StartsWith("a ", StringComparison.Ordinal) || subject.StartsWith("an ", StringComparison.Ordinal) || subject.StartsWith("the ", StringComparison.Ordinal))
        {
            return verb.StartsWith("were ", StringComparison.Ordinal) ? builder.Append("was").Append(verb, 4, verb.Length - 4)
                : verb.StartsWith("are ", StringComparison.Ordinal) ? builder.Append("is").Append(verb, 3, verb.Length - 3)
                : builder.Append(verb);
        }

        return builder.Append(verb);
    }

    private static string VillagePlace(Random random, string village) => random.Next(4) switch
    {
        0 => "the village of " + village,
        1 => $"{village} in the {Pick(random, Regions)} region",
        _ => village,
    };

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly string[] UkrainianMonths =
        ["січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня", "листопада", "грудня"];

    private static readonly string[] RussianMonths =
        ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"];

    /// <summary>
    /// When it happened, as reports say it: a date, a night, an hour. Claims carry such details, and without
    /// them two short claims that share a subject, a verb and a tail but no place read as near-duplicates.
    /// </summary>
    public static string When(Random random, string language)
    {
        var (day, month, hour) = (1 + random.Next(28), random.Next(12), $"{random.Next(24):00}:00");
        return (language, random.Next(3)) switch
        {
            ("uk", 0) => $"{day} {UkrainianMonths[month]}",
            ("uk", 1) => $"у ніч на {day} {UkrainianMonths[month]}",
            ("uk", _) => $"о {hour} {day} {UkrainianMonths[month]}",
            ("ru", 0) => $"{day} {RussianMonths[month]}",
            ("ru", 1) => $"в ночь на {day} {RussianMonths[month]}",
            ("ru", _) => $"около {hour} {day} {RussianMonths[month]}",
            ("ko", 0) => $"{month + 1}월 {day}일",
            ("ko", 1) => $"{month + 1}월 {day}일 새벽",
            ("ko", _) => $"{month + 1}월 {day}일 {hour}께",
            (_, 0) => $"on {day} {Months[month]}",
            (_, 1) => $"on the night of {day} {Months[month]}",
            _ => $"at {hour} on {day} {Months[month]}",
        };
    }

    /// <summary>Mostly tens and hundreds, sometimes thousands, spelled as a reporter would.</summary>
    public static string Count(Random random) => (random.Next(10) switch
    {
        < 4 => 2 + random.Next(48),
        < 8 => 10 * (5 + random.Next(95)),
        _ => 100 * (10 + random.Next(90)),
    }).ToString("N0", CultureInfo.InvariantCulture);

    private static (string[] Latin, string[] Ukrainian, string[] Russian) MakeVillages(int count)
    {
        // Seeded: the same names on every run, so that the benchmark can search for one of them.
        var random = new Random(3_000);
        var vocabulary = string.Join('|', Subjects.Concat(Verbs).Concat(Movements).Concat(Units).Concat(Places).Concat(Leads)
            .Concat(EnglishTails).Concat(Quotes).Concat(Summaries).Concat(SourceNames)).ToLowerInvariant();
        var places = Places.Select(p => p.ToLowerInvariant()).ToArray();
        var names = new List<string>(count);
        var ukrainian = new List<string>(count);
        var russian = new List<string>(count);
        var keys = new HashSet<string>();
        var pieces = new HashSet<string>();
        for (var attempts = 0; names.Count < count; attempts++)
        {
            if (attempts > 100 * count)
            {
                throw new InvalidOperationException($"The syllables make fewer than {count:N0} distinct village names.");
            }

            var (onset, middle, ending) = (random.Next(Onsets.Length), random.Next(2) == 0 ? random.Next(Middles.Length) : -1, random.Next(Endings.Length));
            var name = Onsets[onset] + (middle >= 0 ? Middles[middle] : "") + Endings[ending];
            var key = name.ToLowerInvariant();
            // Under ILIKE '%name%' a name inside another name or a common word would match more than its own
            // claims; so would one that has a whole place or another name inside it.
            if (key.Contains("yy", StringComparison.Ordinal) || pieces.Contains(key) || vocabulary.Contains(key, StringComparison.Ordinal)
                || places.Any(p => key.Contains(p, StringComparison.Ordinal)) || Pieces(key).Any(keys.Contains))
            {
                continue;
            }

            names.Add(name);
            var cyrillic = UkrainianOnsets[onset] + (middle >= 0 ? UkrainianMiddles[middle] : "");
            ukrainian.Add(cyrillic + UkrainianGenitives[ending]);
            // The Russian spelling of the same stem: "-ів-" reads "-ов-", and и stands for the Ukrainian і.
            russian.Add(cyrillic.Replace("ів", "ов", StringComparison.Ordinal).Replace('і', 'и') + RussianGenitives[ending]);
            keys.Add(key);
            pieces.UnionWith(Pieces(key));
        }

        return ([.. names], [.. ukrainian], [.. russian]);
    }

    private static IEnumerable<string> Pieces(string key)
    {
        for (var start = 0; start < key.Length; start++)
        {
            for (var end = start + 1; end <= key.Length; end++)
            {
                yield return key[start..end];
            }
        }
    }

    public static string[] Tags(Random random)
    {
        var tags = new string[1 + random.Next(4)];
        for (var i = 0; i < tags.Length; i++)
        {
            // Distinct without a set: draw again on a repeat.
            do
            {
                tags[i] = Pick(random, TagPool);
            }
            while (Array.IndexOf(tags, tags[i], 0, i) >= 0);
        }

        return tags;
    }

    /// <summary>Most claims wait for work or are being worked on; few are closed.</summary>
    public static string Status(Random random) => random.Next(100) switch
    {
        < 55 => "unverified",
        < 85 => "in_review",
        < 91 => "confirmed",
        < 95 => "disputed",
        < 98 => "false",
        _ => "inconclusive",
    };

    /// <summary>1 to 5 sources per claim, 3.1 on average.</summary>
    public static int EvidenceCount(Random random) => random.Next(100) switch
    {
        < 10 => 1,
        < 30 => 2,
        < 65 => 3,
        < 85 => 4,
        _ => 5,
    };
}
