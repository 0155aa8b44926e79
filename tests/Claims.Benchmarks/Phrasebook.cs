using System.Text;

namespace Claims.Benchmarks;

/// <summary>
/// One language's words for generated statements and for rewording them. Ukrainian, Russian and Korean
/// statements are built here from clause templates, subjects, places, numbers, leads and tails, as the
/// English ones are in <see cref="Words"/> (whose pools the English phrasebook reuses for rewording):
/// a handful of fixed sentences per language made every claim in it a near-duplicate of a seventh of
/// the others. Uk and ru places are in the genitive, which every template's preposition takes.
/// </summary>
internal sealed class Phrasebook
{
    public required string Language { get; init; }

    /// <summary>{s} a subject, {p} a place, {n} a count, {k} kilometres, {a} "about", {u} what is counted; {이} {을} {은} {로} Korean particles that follow the word before them.</summary>
    public required string[] Clauses { get; init; }

    public required string[] Subjects { get; init; }

    public required string[] Places { get; init; }

    /// <summary>Made-up villages in this language's form (uk and ru: genitive); half of the places named when there are any.</summary>
    public string[] Villages { get; init; } = [];

    /// <summary>Korean names a place with a word after it: "쿠르스크 인근".</summary>
    public string[] PlaceSuffixes { get; init; } = [""];

    public required string[] Units { get; init; }

    public required string[] Approximately { get; init; }

    /// <summary>Open a statement; a lead ending in a comma or "that" is followed by the clause in lower case.</summary>
    public required string[] Leads { get; init; }

    public required string[] Tails { get; init; }

    /// <summary>Before a tail: ", " in English, Ukrainian and Russian; nothing in Korean, whose tails go on from the verb ("…했다" + "고 주민들이 말했다").</summary>
    public string TailSeparator { get; init; } = ", ";

    public required string[] Joins { get; init; }

    /// <summary>Groups of words or phrases that say the same, for rewording: "troops", "soldiers", "forces".</summary>
    public required string[][] Synonyms { get; init; }

    /// <summary>Words an outlet adds without changing the claim: "reportedly".</summary>
    public required string[] Fillers { get; init; }

    /// <summary>Whether this script has case (Korean has none).</summary>
    public bool Cased { get; init; } = true;

    public static Phrasebook For(string language) => language switch
    {
        "uk" => Ukrainian,
        "ru" => Russian,
        "ko" => Korean,
        _ => English,
    };

    /// <summary>One to three clauses with their joins, a lead now and then, and tails; ends with a full stop.</summary>
    public void Write(Random random, StringBuilder builder)
    {
        var start = builder.Length;
        if (random.Next(5) == 0)
        {
            builder.Append(Words.Pick(random, Leads)).Append(' ');
        }

        var clauses = random.Next(10) switch { < 4 => 1, < 8 => 2, _ => 3 };
        for (var i = 0; i < clauses; i++)
        {
            if (i > 0)
            {
                builder.Append(Words.Pick(random, Joins));
            }

            var sentenceStart = builder.Length;
            // A date two clauses in five: Korean puts it first, Ukrainian and Russian last.
            var when = random.Next(5) < 2 ? Words.When(random, Language) : null;
            if (when is not null && !Cased)
            {
                builder.Append(when).Append(' ');
            }

            Fill(random, builder, Words.Pick(random, Clauses));
            if (when is not null && Cased)
            {
                builder.Append(' ').Append(when);
            }

            if (sentenceStart == start || builder[sentenceStart - 2] == '.')
            {
                builder[sentenceStart] = char.ToUpperInvariant(builder[sentenceStart]);
            }

            if (random.Next(4) == 0)
            {
                builder.Append(TailSeparator).Append(Words.Pick(random, Tails));
            }
        }

        builder[start] = char.ToUpperInvariant(builder[start]);
        builder.Append('.');
    }

    /// <summary>Lengthens a statement that came out shorter than 40 characters.</summary>
    public void Pad(Random random, StringBuilder builder)
    {
        if (Cased)
        {
            // Before the full stop, as another tail.
            builder.Length--;
            builder.Append(", ").Append(Words.Pick(random, Tails)).Append('.');
        }
        else
        {
            // Another sentence, not one the statement already has.
            var i = random.Next(KoreanAfterwords.Length);
            while (builder.ToString().Contains(KoreanAfterwords[i], StringComparison.Ordinal))
            {
                i = (i + 1) % KoreanAfterwords.Length;
            }

            builder.Append(' ').Append(KoreanAfterwords[i]).Append('.');
        }
    }

    private void Fill(Random random, StringBuilder builder, string template)
    {
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{')
            {
                builder.Append(template[i]);
                continue;
            }

            var close = template.IndexOf('}', i);
            var key = template.AsSpan(i + 1, close - i - 1);
            i = close;
            switch (key)
            {
                case "s":
                    builder.Append(Words.Pick(random, Subjects));
                    break;
                case "p":
                    builder.Append(Villages.Length > 0 && random.Next(2) == 0 ? Words.Pick(random, Villages) : Words.Pick(random, Places))
                        .Append(Words.Pick(random, PlaceSuffixes));
                    break;
                case "n":
                    var count = Words.Count(random);
                    // Ukrainian and Russian group thousands with a space.
                    builder.Append(Cased ? count.Replace(',', ' ') : count);
                    break;
                case "k":
                    builder.Append(1 + random.Next(30));
                    break;
                case "a":
                    builder.Append(Words.Pick(random, Approximately));
                    break;
                case "u":
                    builder.Append(Words.Pick(random, Units));
                    break;
                default:
                    builder.Append(Particle(key, builder[^1]));
                    break;
            }
        }
    }

    /// <summary>A Korean particle in the form the syllable before it takes: after a final consonant 이, 을, 은, 으로; after a vowel 가, 를, 는, 로 (and 로 after ㄹ).</summary>
    public static string Particle(ReadOnlySpan<char> particle, char before)
    {
        var final = before is >= '가' and <= '힣' ? (before - '가') % 28 : 0;
        return particle switch
        {
            "이" => final != 0 ? "이" : "가",
            "을" => final != 0 ? "을" : "를",
            "은" => final != 0 ? "은" : "는",
            "로" => final is not (0 or 8) ? "으로" : "로",
            _ => throw new ArgumentException($"Unknown particle {particle}.", nameof(particle)),
        };
    }

    private static readonly string[] KoreanAfterwords =
    [
        "이는 아직 확인되지 않았다", "러시아 국방부는 이를 부인했다", "관련 영상이 온라인에 공개됐다", "현지 당국은 답변하지 않았다",
    ];

    public static readonly Phrasebook English = new()
    {
        Language = "en",
        // English statements are built by Words.English; these pools serve rewording.
        Clauses = [],
        Subjects = [],
        Places = [],
        Units = [],
        Approximately = ["about", "around", "some", "nearly"],
        Leads = [],
        Tails = Words.EnglishTails,
        Joins = [],
        Fillers = ["reportedly", "allegedly", "apparently", "now", "also", "again"],
        Synonyms =
        [
            ["troops", "soldiers", "forces"], ["were seen near", "were spotted near", "were sighted near"], ["near", "close to", "outside"],
            ["about", "around", "roughly", "approximately"], ["attacked", "struck", "hit"], ["shelled", "bombarded", "pounded"],
            ["withdrew from", "pulled out of", "retreated from"], ["arrived in", "reached", "got to"],
            ["captured positions near", "seized positions near", "took positions near"], ["drones", "UAVs"],
            ["according to local reports", "local media reported", "local outlets say"], ["citing anonymous sources", "citing unnamed sources", "citing sources"],
            ["officials said on Tuesday", "officials said Tuesday", "officials told reporters on Tuesday"], ["deserted from", "fled from", "ran away from"],
            ["residents told reporters", "locals told reporters", "residents told journalists"], ["more than", "over"], ["at least", "no fewer than"],
            ["civilians", "residents", "locals"], ["blew up a bridge", "destroyed a bridge"],
            ["a video posted online", "footage posted online", "a video shared on social media"], ["overnight", "during the night", "last night"],
            ["after heavy fighting", "after fierce fighting", "following heavy fighting"], ["the ministry denied it", "the ministry denied this"],
            ["but this could not be verified", "but this could not be independently verified", "which could not be verified"],
            ["trucks", "lorries"], ["a convoy of trucks", "a truck convoy", "a column of trucks"], ["were redeployed to", "were moved to", "were transferred to"],
            ["are stationed in", "are based in", "are deployed in"], ["km", "kilometres", "kilometers"],
        ],
    };

    public static readonly Phrasebook Ukrainian = new()
    {
        Language = "uk",
        Clauses =
        [
            "{s} дезертирували з частини біля {p}", "{s} відступили з позицій біля {p}", "{s} зосередилися поблизу {p}", "{s} прибули до {p}",
            "{s} обстріляли околиці {p}", "{s} атакували нафтобазу поблизу {p}", "{s} окопуються на околицях {p}", "{s} будують укріплення біля {p}",
            "{s} перетнули кордон поблизу {p}", "{s} захопили позиції біля {p}", "{s} проходять навчання поблизу {p}", "{s} евакуювали цивільних із {p}",
            "{s} потрапили в засідку біля {p}", "{s} підірвали міст біля {p}", "{s} замінували дороги довкола {p}", "{s} встановили блокпости навколо {p}",
            "{s} покинули техніку поблизу {p}", "{s} доставили боєприпаси до {p}", "{s} підпалили склад поблизу {p}", "{s} відбили штурм з боку {p}",
            "{s} розмістилися в районі {p}", "{s} переправилися через річку біля {p}", "{s} здалися в полон біля {p}", "{s} висадилися поблизу {p}",
            "{s} збили дрон неподалік {p}", "{s} перегрупувалися поблизу {p}", "{s} окопалися за {k} км від {p}", "{s} розбили табір за {k} км від {p}",
            "{s} потрапили під обстріл за {k} км від {p}", "{s} втратили дві машини за {k} км від {p}", "{s} вели бої за {k} км від {p}",
            "{a} {n} {u} знищено поблизу {p}", "{a} {n} {u} помічено за {k} км від {p}", "{a} {n} {u} перекинуто до {p}",
            "{a} {n} {u} зосереджено в районі {p}", "поблизу {p} уночі пролунали вибухи", "мешканці {p} повідомляють про колону з {n} вантажівок",
            "на околицях {p} помітили колону з {n} одиниць техніки",
        ],
        Subjects =
        [
            "північнокорейські військові", "північнокорейські солдати", "російські війська", "російські військові", "українські дрони", "окупанти",
            "десантники", "сапери", "артилеристи", "прикордонники", "мобілізовані", "інструктори з КНДР", "бійці ЗСУ", "найманці", "танкісти",
            "штурмовики", "розвідники", "волонтери", "медики", "залізничники", "кадирівці", "хакери", "військові інженери", "морські піхотинці",
            "партизани", "оператори дронів", "резервісти", "вагнерівці", "північнокорейські офіцери", "строковики", "підрозділи ППО",
            "спецпризначенці", "контрактники", "росгвардійці",
        ],
        Places =
        [
            "Курська", "Бєлгорода", "Харкова", "Покровська", "Запоріжжя", "Херсона", "Донецька", "Луганська", "Суджі", "Вовчанська", "Куп'янська",
            "Торецька", "Маріуполя", "Мелітополя", "Авдіївки", "Сум", "Чернігова", "Одеси", "Брянська", "Ростова", "Часового Яру", "Бахмута",
            "Курахового", "Великої Новосілки", "кордону", "полігону", "Кремінної", "Сватового", "Гуляйполя", "Оріхова",
        ],
        Villages = Words.UkrainianVillages,
        Units =
        [
            "військових", "солдатів", "північнокорейських військових", "строковиків", "дронів", "танків", "бронемашин", "вантажівок",
            "одиниць техніки", "найманців", "десантників", "снарядів", "ракет", "окупантів",
        ],
        Approximately = ["близько", "понад", "щонайменше", "до", "майже", "приблизно"],
        Leads =
        [
            "за даними місцевих джерел,", "як повідомляють місцеві канали,", "уночі", "у вівторок", "минулого тижня", "за словами мешканців,",
            "неперевірені дописи стверджують, що", "супутникові знімки свідчать, що", "вдруге за місяць", "як заявив речник ОВА,",
            "за інформацією Генштабу,",
        ],
        Tails =
        [
            "повідомляють місцеві джерела", "з посиланням на анонімні джерела", "як видно на відео в мережі", "заявили у вівторок посадовці",
            "рано вранці", "попри попередні спростування", "вже вдруге за тиждень", "але це не вдалося перевірити", "йдеться в заяві",
            "розповіли мешканці", "після запеклих боїв", "у міністерстві це заперечують", "пише місцевий блогер", "стверджують у Генштабі",
            "за даними розвідки",
        ],
        Joins = ["; ", ", а ", ". Тим часом ", ". ", ", після чого ", ". Крім того, "],
        Fillers = ["нібито", "ймовірно", "також", "вже", "знову", "начебто"],
        Synonyms =
        [
            ["військові", "солдати", "бійці"], ["біля", "поблизу", "неподалік"], ["близько", "приблизно", "майже"], ["атакували", "уразили"],
            ["обстріляли", "атакували"], ["знищено", "ліквідовано", "уражено"], ["помічено", "зафіксовано", "виявлено"],
            ["повідомляють місцеві джерела", "пишуть місцеві медіа", "повідомляють місцеві канали"], ["уночі", "вночі", "минулої ночі"],
            ["дрони", "безпілотники"], ["дронів", "безпілотників", "БпЛА"], ["вантажівок", "машин", "автомобілів"], ["понад", "більш як"],
            ["щонайменше", "не менше ніж"], ["мешканці", "жителі", "місцеві"], ["окупанти", "росіяни", "загарбники"],
            ["прибули до", "дісталися до", "зайшли до"], ["відступили з", "відійшли з"], ["здалися в полон", "потрапили в полон"],
            ["заявили у вівторок посадовці", "у вівторок заявили посадовці", "заявили у вівторок чиновники"],
            ["але це не вдалося перевірити", "проте це не вдалося перевірити", "але підтвердити це не вдалося"],
            ["після запеклих боїв", "після важких боїв", "після інтенсивних боїв"], ["км", "кілометрів"],
        ],
    };

    public static readonly Phrasebook Russian = new()
    {
        Language = "ru",
        Clauses =
        [
            "{s} дезертировали из части у {p}", "{s} отступили с позиций у {p}", "{s} сосредоточились вблизи {p}", "{s} прибыли в район {p}",
            "{s} обстреляли окрестности {p}", "{s} атаковали нефтебазу вблизи {p}", "{s} окапываются на окраинах {p}", "{s} строят укрепления у {p}",
            "{s} пересекли границу вблизи {p}", "{s} заняли позиции у {p}", "{s} проходят обучение вблизи {p}", "{s} эвакуировали мирных жителей из {p}",
            "{s} попали в засаду у {p}", "{s} взорвали мост у {p}", "{s} заминировали дороги вокруг {p}", "{s} установили блокпосты вокруг {p}",
            "{s} бросили технику вблизи {p}", "{s} доставили боеприпасы до {p}", "{s} подожгли склад вблизи {p}", "{s} отбили штурм со стороны {p}",
            "{s} разместились в районе {p}", "{s} переправились через реку у {p}", "{s} сдались в плен у {p}", "{s} высадились вблизи {p}",
            "{s} сбили беспилотник недалеко от {p}", "{s} перегруппировались вблизи {p}", "{s} окопались в {k} км от {p}",
            "{s} разбили лагерь в {k} км от {p}", "{s} попали под обстрел в {k} км от {p}", "{s} потеряли две машины в {k} км от {p}",
            "{s} вели бои в {k} км от {p}", "{a} {n} {u} уничтожено вблизи {p}", "{a} {n} {u} замечено в {k} км от {p}",
            "{a} {n} {u} переброшено в район {p}", "{a} {n} {u} сосредоточено в районе {p}", "вблизи {p} ночью слышали взрывы",
            "жители {p} сообщают о колонне из {n} грузовиков", "на окраинах {p} заметили колонну из {n} единиц техники",
        ],
        Subjects =
        [
            "северокорейские военные", "северокорейские солдаты", "российские войска", "российские военные", "украинские дроны", "десантники",
            "саперы", "артиллеристы", "пограничники", "мобилизованные", "инструкторы из КНДР", "бойцы ВСУ", "наемники", "танкисты", "штурмовики",
            "разведчики", "добровольцы", "медики", "железнодорожники", "кадыровцы", "хакеры", "военные инженеры", "морпехи", "партизаны",
            "операторы дронов", "резервисты", "вагнеровцы", "северокорейские офицеры", "срочники", "части ПВО", "спецназовцы", "контрактники",
            "росгвардейцы",
        ],
        Places =
        [
            "Курска", "Белгорода", "Харькова", "Покровска", "Запорожья", "Херсона", "Донецка", "Луганска", "Суджи", "Волчанска", "Купянска",
            "Торецка", "Мариуполя", "Мелитополя", "Авдеевки", "Сум", "Чернигова", "Одессы", "Брянска", "Ростова", "Часова Яра", "Бахмута",
            "Курахово", "Великой Новоселки", "границы", "полигона", "Кременной", "Сватово", "Гуляйполя", "Орехова",
        ],
        Villages = Words.RussianVillages,
        Units =
        [
            "военных", "солдат", "северокорейских военных", "срочников", "беспилотников", "танков", "бронемашин", "грузовиков", "единиц техники",
            "наемников", "десантников", "снарядов", "ракет",
        ],
        Approximately = ["около", "более", "не менее", "до", "почти", "порядка", "свыше"],
        Leads =
        [
            "по данным местных источников,", "как сообщают местные каналы,", "ночью", "во вторник", "на прошлой неделе", "по словам жителей,",
            "непроверенные публикации утверждают, что", "спутниковые снимки указывают, что", "второй раз за месяц", "как заявил губернатор,",
            "по информации Генштаба,",
        ],
        Tails =
        [
            "сообщают местные источники", "со ссылкой на анонимные источники", "как видно на видео в сети", "заявили во вторник чиновники",
            "рано утром", "несмотря на прежние опровержения", "уже второй раз за неделю", "но проверить это не удалось", "говорится в заявлении",
            "рассказали жители", "после ожесточенных боев", "в министерстве это отрицают", "пишет местный блогер", "утверждают в Генштабе",
            "по данным разведки",
        ],
        Joins = ["; ", ", а ", ". Тем временем ", ". ", ", после чего ", ". Кроме того, "],
        Fillers = ["якобы", "предположительно", "также", "уже", "снова", "вроде бы"],
        Synonyms =
        [
            ["военные", "солдаты", "бойцы"], ["вблизи", "возле", "недалеко от"], ["около", "примерно", "почти"], ["атаковали", "поразили"],
            ["обстреляли", "атаковали"], ["уничтожено", "ликвидировано", "поражено"], ["замечено", "зафиксировано", "обнаружено"],
            ["сообщают местные источники", "пишут местные СМИ", "сообщают местные каналы"], ["ночью", "этой ночью", "прошлой ночью"],
            ["беспилотников", "дронов", "БПЛА"], ["беспилотник", "дрон"], ["грузовиков", "машин", "автомобилей"], ["более", "свыше", "больше"],
            ["не менее", "как минимум"], ["жители", "местные"], ["прибыли в район", "вошли в район", "зашли в район"], ["отступили с", "отошли с"],
            ["сдались в плен", "попали в плен"], ["заявили во вторник чиновники", "во вторник заявили чиновники", "заявили во вторник официальные лица"],
            ["но проверить это не удалось", "однако проверить это не удалось", "но подтвердить это не удалось"],
            ["после ожесточенных боев", "после тяжелых боев", "после интенсивных боев"], ["км", "километрах"],
        ],
    };

    public static readonly Phrasebook Korean = new()
    {
        Language = "ko",
        Cased = false,
        Clauses =
        [
            "{s}{이} {p}에서 훈련을 받고 있다", "{s}{이} {p}에 배치됐다", "{s}{이} {p}에서 탈영했다", "{s}{이} {p}에 도착했다", "{s}{이} {p}에서 철수했다",
            "{s}{이} {p}{을} 포격했다", "{s}{이} {p}의 연료 저장소를 공격했다", "{s}{이} {p}에 방어선을 구축하고 있다", "{s}{이} {p}{로} 진입했다",
            "{s}{이} {p}의 진지를 점령했다", "{s}{이} {p}{로} 재배치됐다", "{s}{이} {p}에 탄약을 보급했다", "{s}{이} {p}에서 민간인을 대피시켰다",
            "{s}{이} {p}에서 매복 공격을 받았다", "{s}{이} {p} 주변 다리를 폭파했다", "{s}{이} {p} 주변 도로에 지뢰를 매설했다",
            "{s}{이} {p}에 검문소를 설치했다", "{s}{이} {p}에서 장비를 버리고 떠났다", "{s}{이} {p} 상공에서 드론을 격추했다",
            "{s}{이} {p}에서 {k}km 떨어진 곳에서 목격됐다", "{s}{이} {p}에서 {k}km 떨어진 곳에 진지를 구축했다", "{s} 약 {n}명{이} {p}에 추가로 투입됐다",
            "{p}에서 {s} {n}명{이} 사상한 것으로 추정된다", "{p}에서 탱크 {n}대{이} 파괴됐다", "{p}{로} 향하는 트럭 {n}대{이} 포착됐다",
            "{p}에서 밤사이 폭발음이 들렸다", "{p} 주민들이 트럭 {n}대 규모의 호송대를 목격했다", "{s}{이} {p}에서 포로로 잡혔다",
            "{s}{이} {p}에서 {n}명 규모로 집결했다", "{p}에 포탄 {n}발{이} 떨어졌다",
        ],
        Subjects =
        [
            "북한군", "북한 병사들", "러시아군", "러시아 공수부대", "북한 장교들", "포병 부대", "공병대", "국경 수비대", "바그너 용병들", "북한 특수부대",
            "러시아 해병대", "정찰대", "탱크 부대", "의무병들", "동원병들", "방공 부대", "우크라이나 여단", "북한 교관들", "해커들", "우크라이나 드론 부대",
            "북한 노동자들", "러시아 징집병들", "체첸 부대", "철도 노동자들", "민병대", "북한 포병",
        ],
        Places =
        [
            "쿠르스크", "벨고로드", "하르키우", "포크로우스크", "자포리자", "헤르손", "도네츠크", "루한스크", "크림반도", "세바스토폴", "연해주",
            "블라디보스토크", "로스토프", "브랸스크", "수미", "체르니히우", "오데사", "쿠피안스크", "토레츠크", "마리우폴", "멜리토폴", "아우디이우카",
            "수자", "보우찬스크", "바흐무트", "쿠라호베", "원산", "하산", "나선", "평양",
        ],
        PlaceSuffixes = ["", "", " 지역", " 인근", " 외곽", " 북쪽", " 남쪽", " 동부 전선"],
        Units = [],
        Approximately = ["약", "대략", "최소"],
        Leads =
        [
            "현지 보도에 따르면", "익명의 소식통에 따르면", "화요일", "지난주", "밤사이", "주민들에 따르면", "위성사진에 따르면",
            "우크라이나 정보당국에 따르면", "국가정보원에 따르면", "한 군사 블로거에 따르면",
        ],
        Tails =
        [
            "고 현지 매체가 보도했다", "고 익명의 소식통이 전했다", "고 주민들이 말했다", "는 주장이 나왔다", "고 우크라이나 정보당국이 밝혔다",
            "고 국가정보원이 밝혔다", "는 보도가 나왔지만 확인되지 않았다", "고 러시아 국방부가 발표했다", "는 영상이 온라인에 올라왔다",
            "고 한 군사 블로거가 주장했다",
        ],
        TailSeparator = "",
        Joins = [". ", ". 한편 ", ". 또한 "],
        Fillers = ["또", "이미", "다시", "최근", "일부"],
        Synonyms =
        [
            ["북한군", "북한 군인들", "북한 병사들"], ["목격됐다", "포착됐다", "관측됐다"], ["철수했다", "퇴각했다", "물러났다"], ["공격했다", "타격했다"],
            ["배치됐다", "투입됐다", "파견됐다"], ["현지 보도에 따르면", "현지 매체에 따르면", "현지 언론에 따르면"],
            ["익명의 소식통에 따르면", "익명의 관계자에 따르면", "소식통에 따르면"], ["인근", "부근", "근처"], ["밝혔다", "전했다"], ["보도했다", "전했다"],
            ["주민들", "현지 주민들", "마을 주민들"], ["약", "대략"], ["폭파했다", "파괴했다"], ["밤사이", "간밤에", "야간에"], ["km", "킬로미터"],
        ],
    };
}
