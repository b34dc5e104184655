using System.Globalization;
using Bonnie.Dealer.Transport;

namespace Bonnie.Dealer.Configuration;

/// <summary>
/// Reads <c>key = value</c> lines from the configuration file, then <c>BONNIE_DEALER_&lt;KEY&gt;</c> environment
/// variables, which win. Hand-written rather than Microsoft.Extensions.Configuration binding: it must be
/// trim/AOT-safe and cost microseconds. A bad value is reported and its default kept: the event still goes.
/// </summary>
internal static class DealerConfiguration
{
    public const string ConfigPathVariable = "BONNIE_DEALER_CONFIG";
    public const string EnvironmentPrefix = "BONNIE_DEALER_";

    /// <summary>The keys this dealer understands; the environment variable is the prefix plus the key in capitals.</summary>
    public static readonly string[] Keys =
        ["broker", "timeout_ms", "spool", "drain_budget_ms", "drain_max_events", "max_notification_bytes", "drop_events", "drop_users", "drop_user_events"];

    public static DealerOptions Load(Func<string, string?> environment, List<string> problems,
        string defaultConfigPath = DealerOptions.DefaultConfigPath)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = environment(ConfigPathVariable);
        ReadFile(string.IsNullOrEmpty(path) ? defaultConfigPath : path, required: !string.IsNullOrEmpty(path),
            values, problems);
        foreach (var key in Keys)
        {
            var value = environment(EnvironmentPrefix + key.ToUpperInvariant());
            if (value is not null)
            {
                values[key] = value;
            }
        }
        return Build(values, environment, problems);
    }

    private static void ReadFile(string path, bool required, Dictionary<string, string> values, List<string> problems)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            if (required)
            {
                problems.Add($"configuration file {path} not found; using defaults");
            }
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot read configuration file {path}: {e.Message}; using defaults");
            return;
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] is '#' or ';' || (line[0] == '[' && line[^1] == ']'))
            {
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? line[..equals].Trim().ToLowerInvariant() : "";
            if (equals <= 0 || Array.IndexOf(Keys, key) < 0)
            {
                problems.Add($"{path}:{i + 1}: ignored '{line}' (expected one of: {string.Join(", ", Keys)} = value)");
                continue;
            }
            values[key] = line[(equals + 1)..].Trim();
        }
    }

    private static DealerOptions Build(Dictionary<string, string> values, Func<string, string?> environment, List<string> problems)
    {
        var options = new DealerOptions();
        if (values.TryGetValue("broker", out var brokers))
        {
            var endpoints = new List<BrokerEndpoint>();
            foreach (var text in List(brokers))
            {
                if (BrokerEndpoint.TryParse(text, out var endpoint, out var error))
                {
                    endpoints.Add(endpoint!);
                }
                else
                {
                    problems.Add(error);
                }
            }
            if (endpoints.Count > 0)
            {
                options.Brokers = endpoints;
            }
            else
            {
                problems.Add($"no usable broker endpoint in '{brokers}'; using {BrokerEndpoint.Default}");
            }
        }
        options.Timeout = Milliseconds(values, "timeout_ms", options.Timeout, 1, problems);
        options.DrainBudget = Milliseconds(values, "drain_budget_ms", options.DrainBudget, 0, problems);
        if (values.TryGetValue("drain_max_events", out var max))
        {
            if (int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                options.DrainMaxEvents = n;
            }
            else
            {
                problems.Add($"drain_max_events '{max}' is not a whole number; using {options.DrainMaxEvents}");
            }
        }
        if (values.TryGetValue("max_notification_bytes", out var limit))
        {
            if (long.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes >= 1024)
            {
                options.MaxNotificationBytes = bytes;
            }
            else
            {
                problems.Add($"max_notification_bytes '{limit}' is not a whole number of at least 1024; using {options.MaxNotificationBytes}");
            }
        }
        options.SpoolDirectories = values.TryGetValue("spool", out var spool) && spool.Length > 0
            ? [spool]
            : DefaultSpoolDirectories(environment);
        options.DropEvents = Set(values, "drop_events", StringComparer.Ordinal);
        options.DropUsers = Set(values, "drop_users", StringComparer.OrdinalIgnoreCase);
        options.DropUserEvents = Set(values, "drop_user_events", StringComparer.Ordinal);
        return options;
    }

    /// <summary>The system spool first; a per-user state directory (for <c>cyrus</c>: under /var/lib/cyrus) if that fails.</summary>
    public static IReadOnlyList<string> DefaultSpoolDirectories(Func<string, string?> environment)
    {
        var state = environment("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state))
        {
            var home = environment("HOME");
            if (string.IsNullOrEmpty(home))
            {
                home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            }
            state = string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".local", "state");
        }
        return state is null
            ? [DealerOptions.DefaultSystemSpool]
            : [DealerOptions.DefaultSystemSpool, Path.Combine(state, "bonnie", "dealer-spool")];
    }

    private static TimeSpan Milliseconds(Dictionary<string, string> values, string key, TimeSpan fallback, int minimum, List<string> problems)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return fallback;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms >= minimum)
        {
            return TimeSpan.FromMilliseconds(ms);
        }
        problems.Add($"{key} '{text}' is not a number of milliseconds >= {minimum}; using {(int)fallback.TotalMilliseconds}");
        return fallback;
    }

    private static HashSet<string> Set(Dictionary<string, string> values, string key, StringComparer comparer) =>
        values.TryGetValue(key, out var text) ? new HashSet<string>(List(text), comparer) : new HashSet<string>(comparer);

    private static string[] List(string text) =>
        text.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
