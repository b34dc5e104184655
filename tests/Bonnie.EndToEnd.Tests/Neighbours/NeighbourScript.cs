using System.Diagnostics;
using System.Text;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>Runs one of the project's scripts in scripts/neighbours/ and fails loudly with its output.</summary>
public static class NeighbourScript
{
    /// <summary>Installing a missing Debian package is the slowest thing a script may do.</summary>
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    public static async Task<string> RunAsync(
        string script,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var path = RepositoryRoot.Combine("scripts", "neighbours", script);
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(path);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} {string.Join(' ', start.ArgumentList.Skip(1))} did not finish in time");
        }

        var output = await stdout;
        var errors = await stderr;
        if (process.ExitCode != 0)
        {
            var message = new StringBuilder()
                .Append(script).Append(' ').AppendJoin(' ', start.ArgumentList.Skip(1))
                .Append(" exited with ").Append(process.ExitCode).AppendLine()
                .AppendLine(output).Append(errors);
            throw new InvalidOperationException(message.ToString());
        }

        return output;
    }
}
