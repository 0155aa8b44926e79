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

    private static readonly string[] Subjects =
    [
        "North Korean troops", "North Korean soldiers", "Russian forces", "Ukrainian drones", "A convoy of trucks", "Two battalions",
        "Wagner fighters", "Officials in Pyongyang", "The regional governor", "Air defence units", "Naval drones", "Engineers",
        "Military police", "Conscripts", "Artillery crews", "Special forces", "Foreign volunteers", "Railway workers",
        "Border guards", "A cargo ship", "Hackers", "Medical teams", "Instructors", "Intelligence officers",
    ];

    private static readonly string[] Verbs =
    [
        "are training in", "were seen near", "deserted from", "arrived in", "withdrew from", "shelled", "attacked", "are building defences in",
        "crossed into", "captured positions near", "were redeployed to", "delivered ammunition to", "evacuated civilians from",
        "were ambushed near", "are stationed in", "set fire to a depot in", "intercepted missiles over", "surrendered near",
    ];

    private static readonly string[] Places =
    [
        "Kursk", "Belgorod", "Kharkiv", "Pokrovsk", "Zaporizhzhia", "Kherson", "Donetsk", "Luhansk", "Crimea", "Sevastopol",
        "Primorsky Krai", "Vladivostok", "the Far East", "Rostov", "Bryansk", "Sumy", "Chernihiv", "Odesa", "the border", "a training ground",
    ];

    private static readonly string[] Tails =
    [
        "according to local reports", "citing anonymous sources", "as shown in a video posted online", "officials said on Tuesday",
        "in the early hours of the morning", "despite earlier denials", "for the second time this week", "satellite images suggest",
        "but this could not be verified", "a statement said", "residents told reporters", "after heavy fighting",
    ];

    private static readonly string[] Ukrainian =
    [
        "Північнокорейські військові дезертирували з частини", "Російські війська відступили з позицій біля", "Дрони атакували нафтобазу в",
        "Окупанти обстріляли житлові квартали", "Колону техніки помітили поблизу", "Військових перекинули до",
    ];

    private static readonly string[] Russian =
    [
        "Северокорейские военные проходят обучение в", "Колонна техники замечена у", "Беспилотники атаковали склад в",
        "Подразделения отошли от", "Солдаты дезертировали из части под",
    ];

    private static readonly string[] Korean =
    [
        "북한군이 러시아에서 훈련을 받고 있다", "북한 병사들이 쿠르스크 지역에 배치됐다", "북한군 일부가 탈영한 것으로 알려졌다",
        "러시아가 북한에 기술을 이전했다", "북한이 포탄을 러시아로 보냈다",
    ];

    private static readonly string[] TagPool =
    [
        "north-korea", "russia", "ukraine", "troops", "desertion", "training", "drones", "artillery", "air-defence", "kursk", "kharkiv",
        "crimea", "sanctions", "ammunition", "navy", "border", "casualties", "prisoners", "refinery", "energy", "evacuation", "cyber",
        "mobilization", "wagner", "satellite", "video", "official-statement", "anonymous-sources", "disinformation", "logistics",
    ];

    public static string Pick(Random random, string[] pool) => pool[random.Next(pool.Length)];

    /// <summary>A statement of 40 to 400 characters; about a fifth not in English.</summary>
    public static (string Statement, string Language) Statement(Random random)
    {
        var roll = random.Next(100);
        var (text, language) = roll switch
        {
            < 8 => ($"{Pick(random, Ukrainian)} {Pick(random, Places)}", "uk"),
            < 14 => ($"{Pick(random, Russian)} {Pick(random, Places)}", "ru"),
            < 19 => (Pick(random, Korean), "ko"),
            _ => (English(random), "en"),
        };

        while (text.Length < 40)
        {
            text += ", " + Pick(random, Tails);
        }

        return (text.Length > 400 ? text[..400].TrimEnd() : text, language);
    }

    private static string English(Random random)
    {
        var builder = new StringBuilder();
        var clauses = 1 + random.Next(3);
        for (var i = 0; i < clauses; i++)
        {
            builder.Append(i == 0 ? "" : "; ").Append(Pick(random, Subjects)).Append(' ').Append(Pick(random, Verbs)).Append(' ').Append(Pick(random, Places));
            if (random.Next(2) == 0)
            {
                builder.Append(", ").Append(Pick(random, Tails));
            }
        }

        return builder.Append('.').ToString();
    }

    public static string[] Tags(Random random)
    {
        var count = 1 + random.Next(4);
        var tags = new HashSet<string>();
        while (tags.Count < count)
        {
            tags.Add(Pick(random, TagPool));
        }

        return [.. tags];
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
