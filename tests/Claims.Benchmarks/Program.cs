using Claims.Benchmarks;

// generate --claims N [--versus-copy] [--write-readme] | similarity | recall [--probes 200] [--indexed] [--base-url URL --api-key KEY] | run [--quick] [--write-readme] | desk [--quick] [--write-readme] | export [--quick] [--write-readme] | provenance [--baseline REF] [--quick] [--write-readme] | scale [--quick] [--write-readme] | import [--claims 100000] [--write-readme] | soak [--minutes 2] [--write-readme] | fuzz [--requests 100000] [--write-readme]
// | events [--seconds 15] [--write-readme] | webhooks [--write-readme]
var writeReadme = args.Contains("--write-readme");
switch (args.FirstOrDefault())
{
    // These two start a private PostgreSQL of their own: the soak restarts it, the fuzz fills it with junk.
    case "soak":
        return await BenchmarkRun.SoakAsync(TimeSpan.FromMinutes(double.TryParse(Option(args, "--minutes"), out var minutes) ? minutes : 2), writeReadme, Console.Out);
    case "fuzz":
        return await BenchmarkRun.FuzzAsync(int.TryParse(Option(args, "--requests"), out var requests) ? requests : 100_000, writeReadme, Console.Out);
    case "events":
        return await BenchmarkRun.EventsAsync(TimeSpan.FromSeconds(double.TryParse(Option(args, "--seconds"), out var seconds) ? seconds : 15), writeReadme, Console.Out,
            withoutNotify: args.Contains("--without-notify"));
    case "webhooks":
        return await BenchmarkRun.WebhooksAsync(writeReadme, Console.Out);
}

var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Claims");
if (string.IsNullOrWhiteSpace(connectionString))
{
    Console.Error.WriteLine("Set ConnectionStrings__Claims to the database to fill or measure, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=claims_bench\".");
    return 2;
}

switch (args.FirstOrDefault())
{
    case "generate" when int.TryParse(Option(args, "--claims"), out var claims) && claims > 0:
        try
        {
            var report = DataGenerator.Run(connectionString, claims, Console.Out, versusCopy: args.Contains("--versus-copy"));
            if (report.BulkLoad is not null)
            {
                Console.WriteLine(report.BulkLoad);
            }

            if (writeReadme)
            {
                var readme = Path.Combine(BenchmarkRun.RepositoryRoot(), "README.md");
                BenchmarkRun.WriteReadme(readme, "data", report.Data);
                if (report.BulkLoad is not null)
                {
                    BenchmarkRun.WriteReadme(readme, "bulk-load", report.BulkLoad);
                }

                Console.WriteLine("README.md's generated-data figures updated.");
            }

            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Stopped: the rows loaded so far stay, with every key and index back.");
            return 130;
        }
    case "similarity":
        await using (var db = Npgsql.NpgsqlDataSource.Create(connectionString))
        {
            Console.WriteLine(NearDuplicates.Report(db, neighbours: true));
        }

        return 0;
    case "recall":
        return await BenchmarkRun.RecallAsync(connectionString, int.TryParse(Option(args, "--probes"), out var probes) ? probes : 200,
            indexed: args.Contains("--indexed"), Option(args, "--base-url"), Option(args, "--api-key"), Console.Out);
    case "run":
        return await BenchmarkRun.RunAsync(connectionString, quick: args.Contains("--quick"), writeReadme, Console.Out);
    case "desk":
        return await BenchmarkRun.DeskAsync(connectionString, quick: args.Contains("--quick"), writeReadme, Console.Out);
    case "export":
        return await BenchmarkRun.ExportAsync(connectionString, quick: args.Contains("--quick"), writeReadme, Console.Out);
    case "scale":
        return await BenchmarkRun.ScaleAsync(connectionString, quick: args.Contains("--quick"), writeReadme, Console.Out);
    case "provenance":
        return await BenchmarkRun.ProvenanceAsync(connectionString, Option(args, "--baseline") ?? BenchmarkRun.ProvenanceBaseline, quick: args.Contains("--quick"), writeReadme, Console.Out);
    case "import":
        // The named database is left alone: the run makes two beside it on the same server and drops them after.
        return await BenchmarkRun.ImportAsync(connectionString, int.TryParse(Option(args, "--claims"), out var imported) && imported > 0 ? imported : 100_000, writeReadme, Console.Out);
    default:
        Console.Error.WriteLine("Usage: generate --claims N [--versus-copy] [--write-readme] | similarity | recall [--probes N] [--indexed] [--base-url URL --api-key KEY] | run [--quick] [--write-readme] | desk [--quick] [--write-readme] | export [--quick] [--write-readme] | provenance [--baseline REF] [--quick] [--write-readme] | scale [--quick] [--write-readme] | import [--claims N] [--write-readme] | soak [--minutes M] [--write-readme] | fuzz [--requests N] [--write-readme] | events [--seconds S] [--write-readme] | webhooks [--write-readme]");
        return 2;
}

static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
