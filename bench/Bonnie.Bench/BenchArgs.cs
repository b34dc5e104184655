using System.Globalization;

namespace Bonnie.Bench;

/// <summary>The benches' options: <c>--name value</c> anywhere on the command line.</summary>
internal static class BenchArgs
{
    public static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public static int Int(string[] args, string name, int fallback) =>
        Text(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A comma-separated list of numbers, such as <c>--concurrency 32,256</c>.</summary>
    public static int[] IntList(string[] args, string name, string fallback) =>
        (Text(args, name) ?? fallback).Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
}
