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
    ];

    // Complete without a place: followed by a distance from one.
    private static readonly string[] Movements =
    [
        "were spotted", "dug in", "set up camp", "came under fire", "regrouped", "were photographed", "lost two vehicles", "laid mines",
        "were seen moving", "built a pontoon crossing",
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
    ];

    private static readonly string[] Regions = ["Kursk", "Sumy", "Kharkiv", "Donetsk", "Zaporizhzhia", "Belgorod", "Bryansk", "Kherson"];

    private static readonly string[] Leads =
    [
        "according to local reports,", "on Tuesday", "overnight", "earlier this week", "local channels claim that", "residents say",
        "a regional official said that", "unverified posts claim that", "satellite images suggest that", "for the second time this month",
    ];

    private static readonly string[] Tails =
    [
        "according to local reports", "citing anonymous sources", "as shown in a video posted online", "officials said on Tuesday",
        "in the early hours of the morning", "despite earlier denials", "for the second time this week", "satellite images suggest",
        "but this could not be verified", "a statement said", "residents told reporters", "after heavy fighting",
        "the ministry denied it", "two days after the first reports", "while talks were under way", "a blogger wrote",
    ];

    private static readonly string[] Joins = ["; ", ", while ", ", and ", ". Meanwhile, ", ". ", ", after "];

    // {p} a place, {n} a number, {k} a distance in kilometres.
    private static readonly string[] Ukrainian =
    [
        "Північнокорейські військові дезертирували з частини біля {p}", "Російські війська відступили з позицій біля {p}",
        "Дрони атакували нафтобазу в {p}", "Окупанти обстріляли житлові квартали {p}", "Колону техніки помітили поблизу {p}",
        "Військових перекинули до {p}", "Близько {n} військових зосереджено за {k} км від {p}", "У {p} уночі пролунали вибухи",
        "Ворог втратив {n} одиниць техніки під {p}", "Мешканці {p} повідомляють про колону з {n} вантажівок",
        "Північнокорейських інструкторів бачили за {k} км від {p}",
    ];

    private static readonly string[] Russian =
    [
        "Северокорейские военные проходят обучение в {p}", "Колонна техники замечена у {p}", "Беспилотники атаковали склад в {p}",
        "Подразделения отошли от {p}", "Солдаты дезертировали из части под {p}", "Около {n} военных замечены в {k} км от {p}",
        "В {p} ночью слышали взрывы", "Жители {p} сообщают о колонне из {n} грузовиков",
    ];

    private static readonly string[] Korean =
    [
        "북한군이 러시아에서 훈련을 받고 있다", "북한 병사들이 쿠르스크 지역에 배치됐다", "북한군 일부가 탈영한 것으로 알려졌다",
        "러시아가 북한에 기술을 이전했다", "북한이 포탄을 러시아로 보냈다", "북한군 약 {n}명이 전선에 추가로 투입됐다",
        "쿠르스크에서 북한군 {n}명이 사상한 것으로 추정된다",
    ];

    private static readonly string[] TagPool =
    [
        "north-korea", "russia", "ukraine", "troops", "desertion", "training", "drones", "artillery", "air-defence", "kursk", "kharkiv",
        "crimea", "sanctions", "ammunition", "navy", "border", "casualties", "prisoners", "refinery", "energy", "evacuation", "cyber",
        "mobilization", "wagner", "satellite", "video", "official-statement", "anonymous-sources", "disinformation", "logistics",
    ];

    // Made-up village names from Ukrainian-sounding syllables: real place names would also match
    // the fixed Places and each other, and a search for one village should find only its own claims.
    private static readonly string[] Onsets =
    [
        "Bor", "Ber", "Vyl", "Vys", "Hor", "Hlyn", "Dub", "Dov", "Zel", "Zhur", "Kam", "Kor", "Kryv", "Lys", "Lyp", "Mal", "Myr", "Nov",
        "Ozer", "Ol", "Pol", "Pryp", "Ros", "Rud", "Sos", "Stav", "Tern", "Tar", "Khol", "Khm", "Chor", "Cher", "Shyr", "Shum", "Yab",
        "Yas", "Hrab", "Hus", "Lozh", "Mokr", "Pisk", "Sad", "Bil", "Zhov", "Krut",
    ];

    private static readonly string[] Middles = ["o", "a", "y", "iv", "an", "ov", "en", "ush", "ak", "ets", "ol", "yn"];

    private static readonly string[] Endings =
    [
        "ivka", "ivtsi", "ove", "ne", "yne", "ychi", "ytsia", "any", "yky", "ky", "sk", "horod", "pil", "yn", "ets", "ivske", "anka", "ianka",
    ];

    private static readonly string[] Villages = MakeVillages(3_000);

    [ThreadStatic]
    private static StringBuilder? t_builder;

    /// <summary>
    /// A village that generated statements mention as often as any other of the 3,000 (a fifth of English
    /// statements and half of the Ukrainian and Russian ones name one): a rare search term. Claim number 1
    /// always mentions it.
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

        switch (language)
        {
            case "uk":
                Template(random, builder, Pick(random, Ukrainian), random.Next(2) == 0 ? Pick(random, Villages) : Pick(random, Places));
                break;
            case "ru":
                Template(random, builder, Pick(random, Russian), random.Next(2) == 0 ? Pick(random, Villages) : Pick(random, Places));
                break;
            case "ko":
                Template(random, builder, Pick(random, Korean), "");
                break;
            default:
                English(random, builder, village ?? (random.Next(5) == 0 ? Pick(random, Villages) : null));
                break;
        }

        while (builder.Length < 40)
        {
            builder.Append(", ").Append(Pick(random, Tails));
        }

        var text = builder.Length > 400 ? builder.ToString(0, 400).TrimEnd() : builder.ToString();
        return (text, language);
    }

    private static void Template(Random random, StringBuilder builder, string template, string place)
    {
        builder.Append(template)
            .Replace("{p}", place)
            .Replace("{n}", Count(random))
            .Replace("{k}", (1 + random.Next(30)).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>One to three clauses in varying order and joins; the village, if any, stands in for one clause's place.</summary>
    private static void English(Random random, StringBuilder builder, string? village)
    {
        var clauses = 1 + random.Next(3);
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

            if (sentenceStart == start || builder[sentenceStart - 2] == '.')
            {
                builder[sentenceStart] = char.ToUpperInvariant(builder[sentenceStart]);
            }

            if (random.Next(4) == 0)
            {
                builder.Append(", ").Append(Pick(random, Tails));
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

    /// <summary>Mostly tens and hundreds, sometimes thousands, spelled as a reporter would.</summary>
    private static string Count(Random random) => (random.Next(10) switch
    {
        < 4 => 2 + random.Next(48),
        < 8 => 10 * (5 + random.Next(95)),
        _ => 100 * (10 + random.Next(90)),
    }).ToString("N0", CultureInfo.InvariantCulture);

    private static string[] MakeVillages(int count)
    {
        // Seeded: the same names on every run, so that the benchmark can search for one of them.
        var random = new Random(3_000);
        var vocabulary = string.Join('|', Subjects.Concat(Verbs).Concat(Movements).Concat(Units).Concat(Places).Concat(Leads)
            .Concat(Tails).Concat(Quotes).Concat(Summaries).Concat(SourceNames)).ToLowerInvariant();
        var places = Places.Select(p => p.ToLowerInvariant()).ToArray();
        var names = new List<string>(count);
        var keys = new HashSet<string>();
        var pieces = new HashSet<string>();
        for (var attempts = 0; names.Count < count; attempts++)
        {
            if (attempts > 100 * count)
            {
                throw new InvalidOperationException($"The syllables make fewer than {count:N0} distinct village names.");
            }

            var name = Pick(random, Onsets) + (random.Next(2) == 0 ? Pick(random, Middles) : "") + Pick(random, Endings);
            var key = name.ToLowerInvariant();
            // Under ILIKE '%name%' a name inside another name or a common word would match more than its own
            // claims; so would one that has a whole place or another name inside it.
            if (key.Contains("yy", StringComparison.Ordinal) || pieces.Contains(key) || vocabulary.Contains(key, StringComparison.Ordinal)
                || places.Any(p => key.Contains(p, StringComparison.Ordinal)) || Pieces(key).Any(keys.Contains))
            {
                continue;
            }

            names.Add(name);
            keys.Add(key);
            pieces.UnionWith(Pieces(key));
        }

        return [.. names];
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
