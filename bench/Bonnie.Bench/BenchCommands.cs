namespace Bonnie.Bench;

/// <summary>Dispatches <c>dotnet run -c Release --project bench/Bonnie.Bench -- &lt;name&gt;</c>.</summary>
internal static class BenchCommands
{
    private static readonly Dictionary<string, Func<string[], int>> Commands = new(StringComparer.OrdinalIgnoreCase)
    {
        ["broker"] = BrokerBench.Run,
        ["parse"] = ParseBench.Run,
        ["store"] = StoreBench.Run,
        ["queries"] = StoreBench.RunQueries,
        ["export"] = ExportBench.Run,
        ["firstpage"] = FirstPageBench.Run,
        ["collector"] = CollectorBench.Run,
        ["pipeline"] = PipelineBench.Run,
        ["restore"] = RestoreBench.Run,
    };

    public static int Run(string[] args)
    {
        if (args.Length == 0 || !Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine($"usage: Bonnie.Bench <{string.Join('|', Commands.Keys.Order())}> [options]");
            return 2;
        }
        return command(args[1..]);
    }
}
