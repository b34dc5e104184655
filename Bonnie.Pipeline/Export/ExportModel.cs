namespace Bonnie.Pipeline.Export;

/// <summary>What to put in an evidence bundle: the messages a query's events touched, or a selection of message keys.</summary>
public sealed record ExportRequest
{
    /// <summary>An officers' query (<c>user:alice@example.org after:2026-11-01</c>); its events' messages are exported.</summary>
    public string? Query { get; init; }
    /// <summary>Message keys chosen one by one; exported with the query's, if both are given.</summary>
    public IReadOnlyList<string> MessageKeys { get; init; } = [];
    /// <summary>Also write <c>messages.mbox</c> (mboxrd) beside the <c>.eml</c> files.</summary>
    public bool IncludeMbox { get; init; }
    public required string Officer { get; init; }
    public string? ClientAddress { get; init; }
}

/// <summary>What a finished bundle holds; <see cref="ManifestSha256"/> is what the officers' audit recorded.</summary>
public sealed record ExportSummary(int Messages, int WithoutPayload, long PayloadBytes, int Files, string ManifestSha256);

/// <summary>One problem a verification found; <see cref="Kind"/> is <c>changed</c>, <c>added</c> or <c>missing</c>.</summary>
public sealed record BundleProblem(string Kind, string Path, string Detail);

/// <summary>The outcome of checking a bundle against its own manifest.</summary>
public sealed record BundleVerification(bool IsIntact, int FilesChecked, string? ManifestSha256, IReadOnlyList<BundleProblem> Problems);
