using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bonnie.Shared.Events;

namespace Bonnie.Bench;

/// <summary>
/// <c>parse</c>: NotificationParser.Parse against JsonDocument.Parse of the same bytes, in interleaved rounds of
/// one invocation, over the real Cyrus fixtures replicated with varied values in a realistic mix.
/// </summary>
internal static partial class ParseBench
{
    // How often each event shows up relative to the others on a busy server; unlisted names weigh 1.
    private static readonly Dictionary<string, int> Weights = new(StringComparer.Ordinal)
    {
        ["MessageNew.json"] = 8,
        ["MailboxModseq.json"] = 8,
        ["MessageRead.json"] = 6,
        ["FlagsSet.json"] = 4,
        ["FlagsClear.json"] = 2,
        ["Login.json"] = 4,
        ["Logout.json"] = 4,
        ["MessageAppend.json"] = 3,
        ["MessageExpunge.json"] = 3,
        ["MessageTrash.json"] = 2,
        ["vnd.cmu.MessageMove.json"] = 2,
        ["vnd.cmu.MessageCopy.json"] = 2,
    };

    public static int Run(string[] args)
    {
        var rounds = 60;
        var byType = false;
        var millisecondsPerRun = 40;
        var variants = 40;
        var warmupMilliseconds = 3000;
        string? data = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--ms": millisecondsPerRun = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--variants": variants = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--data": data = args[++i]; break;
                case "--warmup-ms": warmupMilliseconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--by-type": byType = true; break;
                default:
                    Console.Error.WriteLine("usage: parse [--rounds 60] [--ms 40] [--warmup-ms 3000] [--variants 40] [--data tests/TestData/cyrus] [--by-type]");
                    return 2;
            }
        }
        data ??= FindTestData();
        if (data is null || !Directory.Exists(data))
        {
            Console.Error.WriteLine("parse: cannot find tests/TestData/cyrus; pass --data <dir>");
            return 2;
        }

        if (byType)
        {
            ReportByType(data);
            return 0;
        }
        var notifications = BuildMix(data, variants);
        var totalBytes = notifications.Sum(n => (long)n.Length);
        foreach (var notification in notifications)
        {
            var result = NotificationParser.Parse(notification);
            if (!result.IsSuccess)
            {
                Console.Error.WriteLine($"parse: a benchmark notification does not parse: {result.Reason}");
                return 1;
            }
        }
        Console.WriteLine($"parse: {notifications.Length} notifications ({totalBytes / notifications.Length} bytes on average) " +
            $"from {data}, {warmupMilliseconds} ms warm-up, {rounds} interleaved rounds of {millisecondsPerRun} ms per side");

        // Warm both paths up until tiered JIT has settled: the parser is one large method with a loop, which goes
        // through OSR and PGO instrumentation before its final code, and the JIT competes with the benchmark for CPU.
        for (var elapsed = Stopwatch.StartNew(); elapsed.ElapsedMilliseconds < warmupMilliseconds;)
        {
            Measure(notifications, ParseWithParser, 100);
            Measure(notifications, ParseWithJsonDocument, 100);
        }

        var parserRates = new List<double>();
        var documentRates = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which side goes first so drift on a shared machine hits both equally.
            if (round % 2 == 0)
            {
                parserRates.Add(Measure(notifications, ParseWithParser, millisecondsPerRun));
                documentRates.Add(Measure(notifications, ParseWithJsonDocument, millisecondsPerRun));
            }
            else
            {
                documentRates.Add(Measure(notifications, ParseWithJsonDocument, millisecondsPerRun));
                parserRates.Add(Measure(notifications, ParseWithParser, millisecondsPerRun));
            }
        }
        var ratios = parserRates.Zip(documentRates, (p, d) => p / d).ToList();
        var averageSize = (double)totalBytes / notifications.Length;
        Report("NotificationParser.Parse", Median(parserRates), averageSize);
        Report("JsonDocument.Parse      ", Median(documentRates), averageSize);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio parser/JsonDocument: {Median(ratios):F2}x (median of per-round ratios; min {ratios.Min():F2}, max {ratios.Max():F2}; target >= 0.50)"));
        return 0;
    }

    /// <summary>Nanoseconds per notification for each fixture file, to see where the parser spends its time.</summary>
    private static void ReportByType(string data)
    {
        var mix = BuildMix(data, 4);
        for (var elapsed = Stopwatch.StartNew(); elapsed.ElapsedMilliseconds < 3000;)
        {
            Measure(mix, ParseWithParser, 100);
            Measure(mix, ParseWithJsonDocument, 100);
        }
        foreach (var folder in new[] { "events", "events-2.5", "fixtures" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(data, folder), "*.json").Order(StringComparer.Ordinal))
            {
                byte[][] one = [File.ReadAllBytes(file)];
                Measure(one, ParseWithParser, 50);
                Measure(one, ParseWithJsonDocument, 50);
                var parser = Measure(one, ParseWithParser, 200);
                var document = Measure(one, ParseWithJsonDocument, 200);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{folder + "/" + Path.GetFileName(file),-50} parser {1e9 / parser,7:F0} ns  JsonDocument {1e9 / document,7:F0} ns  ratio {parser / document:F2}"));
            }
        }
    }

    private static int ParseWithParser(byte[] notification)
        => NotificationParser.Parse(notification).IsSuccess ? 1 : 0;

    private static int ParseWithJsonDocument(byte[] notification)
    {
        using var document = JsonDocument.Parse(notification);
        return document.RootElement.ValueKind == JsonValueKind.Object ? 1 : 0;
    }

    /// <summary>Passes over the whole mix until the time is up; returns notifications per second.</summary>
    private static double Measure(byte[][] notifications, Func<byte[], int> parse, int milliseconds)
    {
        var count = 0L;
        var checksum = 0;
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < milliseconds)
        {
            foreach (var notification in notifications)
            {
                checksum += parse(notification);
            }
            count += notifications.Length;
        }
        watch.Stop();
        if (checksum != count)
        {
            throw new InvalidOperationException("a notification failed to parse during the benchmark");
        }
        return count / watch.Elapsed.TotalSeconds;
    }

    private static void Report(string name, double eventsPerSecond, double averageSize)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {eventsPerSecond,12:N0} events/s  {eventsPerSecond * averageSize / 1e6,8:F1} MB/s"));

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static byte[][] BuildMix(string data, int variants)
    {
        var random = new Random(5423);
        var mix = new List<byte[]>();
        foreach (var folder in new[] { "events", "events-2.5", "fixtures" })
        {
            var path = Path.Combine(data, folder);
            if (!Directory.Exists(path))
            {
                continue;
            }
            foreach (var file in Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal))
            {
                var text = File.ReadAllText(file).TrimEnd();
                var weight = folder == "events" ? Weights.GetValueOrDefault(Path.GetFileName(file), 1) : 1;
                for (var i = 0; i < weight * variants; i++)
                {
                    mix.Add(Encoding.UTF8.GetBytes(Vary(text, random)));
                }
            }
        }
        // Shuffle so the branch predictor sees a stream, not runs of one type.
        var array = mix.ToArray();
        random.Shuffle(array);
        return array;
    }

    /// <summary>Changes numbers, UIDs and times so the mix is not the same few strings over and over.</summary>
    private static string Vary(string json, Random random)
    {
        json = Numbers().Replace(json, m => $"\"{m.Groups[1].Value}\":{(m.Groups[1].Value == "clientPort" ? random.Next(1024, 65536) : random.Next(1, 100_000))}");
        json = Uids().Replace(json, m => $"{m.Groups[1].Value}={random.Next(1, 50_000)}");
        json = Milliseconds().Replace(json, m => $".{random.Next(0, 1000):D3}");
        return json;
    }

    [GeneratedRegex("\"(pid|modseq|messages|uidnext|messageSize|clientPort|vnd\\.cmu\\.unseenMessages)\":\\s*\\d+")]
    private static partial Regex Numbers();

    [GeneratedRegex("(;UID)=\\d+")]
    private static partial Regex Uids();

    [GeneratedRegex("\\.\\d{3}(?=Z|[+-]\\d\\d:\\d\\d)")]
    private static partial Regex Milliseconds();

    private static string? FindTestData()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "TestData", "cyrus");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
