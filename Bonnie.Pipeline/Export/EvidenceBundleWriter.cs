using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bonnie.Pipeline.Restore;
using Bonnie.Shared.Events;
using Bonnie.Shared.IO;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using MimeKit;
using MimeKit.Utils;

namespace Bonnie.Pipeline.Export;

/// <summary>
/// Writes an evidence bundle as a ZIP straight into a stream (an HTTP response), one entry after the other, so
/// memory stays flat however many messages it holds: <c>messages/&lt;sha256&gt;.eml</c> byte-exact,
/// <c>history/&lt;key&gt;.json</c>, <c>loadfile.csv</c>, <c>loadfile.json</c>, <c>custody.json</c>, <c>report.html</c>,
/// optionally <c>messages.mbox</c>, and last <c>manifest.sha256</c>. The per-message rows of the load files and
/// the report go to scratch files first, because a ZIP entry must be written whole before the next begins.
/// The manifest's hash is handed to <c>recordManifestAsync</c> (the officers' audit) before the manifest is
/// written: if recording fails, the ZIP is never finished and no complete bundle exists without its audit record.
/// </summary>
public sealed class EvidenceBundleWriter
{
    public const string ManifestName = "manifest.sha256";
    private const int MaxMessages = 1_000_000;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] LoadFileColumns =
        ["id", "custodian", "folder", "date", "internal_date", "archived", "from", "to", "cc", "subject", "size", "sha256", "file", "history", "payload", "headers_from"];

    private readonly IBonnieStore _store;
    private readonly IPayloadStore _payloads;
    private readonly TimeProvider _time;

    public EvidenceBundleWriter(IBonnieStore store, IPayloadStore payloads, TimeProvider time)
    {
        _store = store;
        _payloads = payloads;
        _time = time;
    }

    /// <summary>The message keys the request names: its query's events' messages, then the selection; no repeats.</summary>
    public async Task<IReadOnlyList<string>> ResolveKeysAsync(ExportRequest request, CancellationToken cancellationToken = default)
    {
        var keys = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(request.Query))
        {
            var query = QueryParser.Parse(request.Query);
            string? cursor = null;
            do
            {
                var page = await _store.SearchEventsAsync(new EventSearch { Query = query, Limit = EventSearch.MaxLimit, Cursor = cursor }, cancellationToken)
                    .ConfigureAwait(false);
                foreach (var key in page.Items.SelectMany(e => e.MessageKeys))
                {
                    if (seen.Add(key))
                    {
                        keys.Add(key);
                    }
                }
                cursor = page.Next;
            }
            while (cursor is not null && keys.Count < MaxMessages);
        }
        foreach (var key in request.MessageKeys)
        {
            if (seen.Add(key))
            {
                keys.Add(key);
            }
        }
        return keys.Count > MaxMessages
            ? throw new QuerySyntaxException($"The export would hold more than {MaxMessages} messages; narrow the query.", 0, "a narrower query")
            : keys;
    }

    public async Task<ExportSummary> WriteAsync(ExportRequest request, IReadOnlyList<string> keys, Stream output,
        Func<string, ExportSummary, CancellationToken, Task> recordManifestAsync, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordManifestAsync);
        var exportedAt = _time.GetUtcNow();
        using var scratch = new Scratch();
        var folders = new Dictionary<string, FolderObject?>(StringComparer.Ordinal);
        var written = new HashSet<string>(StringComparer.Ordinal);
        int messages = 0, withoutPayload = 0;
        long payloadBytes = 0;

        // Not disposed on failure: disposing writes the central directory, and a half bundle must not read as whole.
#pragma warning disable CA2000
        await using var bridge = new AsyncOnlyBridge(output);
        var zip = await ZipArchive.CreateAsync(bridge, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: Encoding.UTF8, cancellationToken)
            .ConfigureAwait(false);
#pragma warning restore CA2000
        async Task AddAsync(string path, Func<Stream, Task> write, CompressionLevel level = CompressionLevel.Fastest)
        {
            var entry = zip.CreateEntry(path, level);
            entry.LastWriteTime = exportedAt;
            var stream = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var hashing = new HashingStream(stream);
                await write(hashing).ConfigureAwait(false);
                scratch.Manifest.Write($"{hashing.HexHash()}  {path}\n");
            }
            await bridge.DrainAsync(cancellationToken).ConfigureAwait(false);
        }

        await scratch.LoadJson.WriteAsync("[").ConfigureAwait(false);
        await scratch.LoadCsv.WriteAsync(string.Join(',', LoadFileColumns) + "\r\n").ConfigureAwait(false);
        // A merged sighting's key and its message's key are one message, exported once under the message's key; a
        // selection's unknown key is said in the bundle, not silently dropped. The mbox takes the same messages.
        var exported = new List<string>();
        var notFound = new List<string>();
        await foreach (var message in MessageHistory.ResolveEachAsync(_store, keys, notFound, cancellationToken).ConfigureAwait(false))
        {
            var key = message.Key;
            exported.Add(key);
            var changes = await MessageHistory.ChangesAsync(_store, message, cancellationToken).ConfigureAwait(false);
            byte[]? bytes = message.PayloadSha256 is { } sha ? await _payloads.GetAsync(sha, cancellationToken).ConfigureAwait(false) : null;
            var historyPath = "history/" + SafeName(key) + ".json";
            await AddAsync(historyPath, s => JsonSerializer.SerializeAsync(s, new { message, changes }, Json, cancellationToken)).ConfigureAwait(false);
            string? emlPath = null;
            Headers? headers = null;
            if (bytes is not null)
            {
                emlPath = $"messages/{message.PayloadSha256}.eml";
                if (written.Add(emlPath))
                {
                    await AddAsync(emlPath, s => s.WriteAsync(bytes, cancellationToken).AsTask(), CompressionLevel.Fastest).ConfigureAwait(false);
                }
                headers = Headers.Read(bytes);
                payloadBytes += bytes.Length;
            }
            else
            {
                withoutPayload++;
            }
            // Only a message without readable bytes costs a read more: its arrival's notification, found through the changes.
            headers ??= await KnownHeadersAsync(message, changes, cancellationToken).ConfigureAwait(false);
            messages++;
            var row = await RowAsync(message, headers, emlPath, historyPath, folders, cancellationToken).ConfigureAwait(false);
            await scratch.LoadCsv.WriteAsync(string.Join(',', row.Values.Select(CsvCell.Of)) + "\r\n").ConfigureAwait(false);
            await scratch.LoadJson.WriteAsync((messages == 1 ? "\n" : ",\n") + JsonSerializer.Serialize(row, Json)).ConfigureAwait(false);
            await scratch.Report.WriteAsync(ReportRow(row)).ConfigureAwait(false);
        }
        await scratch.LoadJson.WriteAsync("\n]\n").ConfigureAwait(false);

        if (request.IncludeMbox)
        {
            await AddAsync("messages.mbox", s => WriteMboxAsync(exported, s, cancellationToken)).ConfigureAwait(false);
        }
        await AddAsync("loadfile.csv", s => Scratch.CopyAsync(scratch.LoadCsv, s, cancellationToken)).ConfigureAwait(false);
        await AddAsync("loadfile.json", s => Scratch.CopyAsync(scratch.LoadJson, s, cancellationToken)).ConfigureAwait(false);
        var custody = new
        {
            format = "bonnie-evidence-bundle/1",
            query = request.Query,
            selection = request.MessageKeys,
            exportedBy = request.Officer,
            exportedAt,
            clientAddress = request.ClientAddress,
            messages,
            withoutPayload,
            payloadBytes,
            notFound,
            coverage = Coverage,
            verify = "dotnet Bonnie.Web.dll verify-bundle <this zip>; compare the manifest hash it prints with the officers' audit record of this export",
        };
        await AddAsync("custody.json", s => JsonSerializer.SerializeAsync(s, custody, Json, cancellationToken)).ConfigureAwait(false);
        await AddAsync("report.html", async s =>
        {
            await using var w = new StreamWriter(s, new UTF8Encoding(false), 65536, leaveOpen: true);
            await w.WriteAsync(ReportHead(request, exportedAt, messages, withoutPayload, payloadBytes, notFound)).ConfigureAwait(false);
            await w.FlushAsync(cancellationToken).ConfigureAwait(false);
            await Scratch.CopyAsync(scratch.Report, s, cancellationToken).ConfigureAwait(false);
            await w.WriteAsync("</tbody></table></body></html>\n").ConfigureAwait(false);
        }).ConfigureAwait(false);

        await scratch.Manifest.FlushAsync(cancellationToken).ConfigureAwait(false);
        var manifestSha = await Scratch.HashAsync(scratch.Manifest, cancellationToken).ConfigureAwait(false);
        var files = scratch.ManifestLines + 1;
        var summary = new ExportSummary(messages, withoutPayload, payloadBytes, files, manifestSha);
        await recordManifestAsync(manifestSha, summary, cancellationToken).ConfigureAwait(false);
        var manifest = zip.CreateEntry(ManifestName, CompressionLevel.Fastest);
        manifest.LastWriteTime = exportedAt;
        await using (var m = await manifest.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await Scratch.CopyAsync(scratch.Manifest, m, cancellationToken).ConfigureAwait(false);
        }
        await zip.DisposeAsync().ConfigureAwait(false);
        await bridge.FlushAsync(cancellationToken).ConfigureAwait(false);
        return summary;
    }

    private async Task WriteMboxAsync(IReadOnlyList<string> keys, Stream output, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            var message = await _store.GetMessageAsync(key, cancellationToken).ConfigureAwait(false);
            if (message?.PayloadSha256 is not { } sha || await _payloads.GetAsync(sha, cancellationToken).ConfigureAwait(false) is not { } bytes)
            {
                continue;
            }
            var date = message.FirstSeen.UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture);
            await output.WriteAsync(Encoding.ASCII.GetBytes($"From MAILER-DAEMON {date}\n"), cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(Mboxrd.Quote(bytes), cancellationToken).ConfigureAwait(false);
            await output.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Dictionary<string, string?>> RowAsync(MessageObject message, Headers headers, string? emlPath, string historyPath,
        Dictionary<string, FolderObject?> folders, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        // Every owner whose mailbox held it, "; "-separated as the folders are: one GUID delivered to alice and bob is one
        // message, and the load file named only the first (found by a review).
        var custodians = new List<string>();
        foreach (var l in message.Locations)
        {
            if (!folders.TryGetValue(l.FolderId, out var folder))
            {
                folder = await _store.GetFolderAsync(l.FolderId, cancellationToken).ConfigureAwait(false);
                folders[l.FolderId] = folder;
            }
            var name = l.FolderName ?? folder?.Name;
            if (name is not null && !names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
            if ((folder?.Owner ?? (name is null ? null : CyrusMailboxName.OwnerOf(name))) is { } owner
                && !custodians.Contains(owner, StringComparer.OrdinalIgnoreCase))
            {
                custodians.Add(owner);
            }
        }
        var internalDate = message.Locations.Count == 0 ? (DateTimeOffset?)null : message.Locations.Min(l => l.Since);
        return new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["id"] = message.Key,
            ["custodian"] = custodians.Count == 0 ? null : string.Join("; ", custodians),
            ["folder"] = string.Join("; ", names),
            ["date"] = headers.Date?.ToString("o", CultureInfo.InvariantCulture),
            ["internal_date"] = internalDate?.ToString("o", CultureInfo.InvariantCulture),
            ["archived"] = message.FirstSeen.ToString("o", CultureInfo.InvariantCulture),
            ["from"] = headers.From,
            ["to"] = headers.To,
            ["cc"] = headers.Cc,
            ["subject"] = headers.Subject,
            ["size"] = (message.Size ?? 0).ToString(CultureInfo.InvariantCulture),
            ["sha256"] = message.PayloadSha256,
            ["file"] = emlPath,
            ["history"] = historyPath,
            ["payload"] = emlPath is null ? "not kept" : message.PayloadStatus.ToString(),
            // Last, as load files are read by position. Said because a value Cyrus notified is not the message's own header.
            ["headers_from"] = headers.Source,
        };
    }

    /// <summary>
    /// The headers of a message whose bytes Bonnie does not have (or cannot read): the envelope Cyrus sent with its
    /// arrival (<c>vnd.cmu.envelope</c>; 2.5's headers), else the sender and subject Bonnie recorded for the message.
    /// </summary>
    private async Task<Headers> KnownHeadersAsync(MessageObject message, IReadOnlyList<ChangeRecord> changes, CancellationToken cancellationToken)
    {
        // Events are searched without their notification, so the one event worth reading is picked from the changes
        // already read, and read alone: one read per message, however many events it has.
        if (ArrivalEventId(changes) is { } eventId
            && await _store.GetEventAsync(eventId, cancellationToken).ConfigureAwait(false) is { Raw.IsEmpty: false } stored
            && NotificationParser.Parse(stored.Raw).Event?.Envelope is { } envelope)
        {
            return Headers.Of(envelope);
        }
        return message.From is null && message.Subject is null
            ? Headers.Empty
            : new Headers(null, message.From, null, null, message.Subject, HeadersSource.Record);
    }

    /// <summary>
    /// The event of the message's delivery or append (Cyrus sends the envelope with those alone), else of its first
    /// arrival any other way, whose notification may still carry one. A backfill's find is Bonnie's record, no envelope.
    /// </summary>
    private static string? ArrivalEventId(IReadOnlyList<ChangeRecord> changes)
    {
        string? first = null;
        foreach (var change in changes)
        {
            if (change is not { Aspect: ChangeAspect.Location, From: null, To: not null } || change.Key == LocationOrigin.Backfill)
            {
                continue;
            }
            if (change.Key is LocationOrigin.Delivered or LocationOrigin.Appended)
            {
                return change.EventId;
            }
            first ??= change.EventId;
        }
        return first;
    }

    /// <summary>A key as a file name: itself when plain, else a hash of it (Message-IDs hold '/', '&lt;' and worse).</summary>
    internal static string SafeName(string key)
        => key.Length is > 0 and <= 100 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && key[0] != '.'
            ? key
            : "k" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..40];


    private static string H(string? value) => WebUtility.HtmlEncode(value ?? "");

    /// <summary>
    /// What a query reaches, said in every bundle: a review found a verified bundle for <c>user:alice</c> empty because
    /// alice's mail had been recorded by a backfill that recorded no events; each place the backfill finds is now a
    /// <c>MessageFound</c> event, and what no event can cover is said here.
    /// </summary>
    internal const string Coverage = "A query selects the messages of the events it matches. Mail that was on the server before Bonnie "
        + "listened is matched through the MessageFound event the backfill recorded where it found it, dated by the server's INTERNALDATE. "
        + "Mail deleted before Bonnie listened, and folders no backfill has walked since, are not in Bonnie.";

    private static string ReportHead(ExportRequest request, DateTimeOffset exportedAt, int messages, int withoutPayload, long bytes, List<string> notFound) => $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <title>Bonnie evidence bundle</title>
        <style>body{"{"}font-family:sans-serif;margin:2em{"}"} table{"{"}border-collapse:collapse;font-size:90%{"}"} td,th{"{"}border:1px solid #999;padding:3px 6px;vertical-align:top;text-align:left{"}"} code{"{"}word-break:break-all{"}"}</style>
        </head><body>
        <h1>Evidence bundle</h1>
        <dl>
        <dt>Query</dt><dd><code>{H(request.Query)}</code></dd>
        <dt>Selected messages</dt><dd>{Selected(request)}</dd>
        <dt>Exported by</dt><dd>{H(request.Officer)}</dd>
        <dt>Exported at</dt><dd>{H(exportedAt.ToString("u", CultureInfo.InvariantCulture))}</dd>
        <dt>Messages</dt><dd>{messages.ToString(CultureInfo.InvariantCulture)} ({withoutPayload.ToString(CultureInfo.InvariantCulture)} without their bytes), {bytes.ToString(CultureInfo.InvariantCulture)} bytes</dd>
        <dt>Keys not found</dt><dd>{(notFound.Count == 0 ? "none" : string.Join(", ", notFound.Select(k => "<code>" + H(k) + "</code>")))}</dd>
        <dt>Coverage</dt><dd>{H(Coverage)}</dd>
        </dl>
        <p>Every file of this bundle is listed with its SHA-256 in <code>manifest.sha256</code>; the manifest's own SHA-256 is in Bonnie's officers' audit log.
        Check the bundle with <code>dotnet Bonnie.Web.dll verify-bundle &lt;zip&gt;</code> or <code>sha256sum -c manifest.sha256</code> in the unpacked folder.</p>
        <table><thead><tr><th>Id</th><th>Custodian</th><th>Folder</th><th>Date</th><th>From</th><th>To</th><th>Cc</th><th>Subject</th><th>Size</th><th>SHA-256</th><th>File</th><th>Headers from</th></tr></thead><tbody>

        """;

    private static string ReportRow(Dictionary<string, string?> row)
        => $"<tr><td><code>{H(row["id"])}</code></td><td>{H(row["custodian"])}</td><td>{H(row["folder"])}</td><td>{H(row["date"] ?? row["internal_date"])}</td>"
            + $"<td>{H(row["from"])}</td><td>{H(row["to"])}</td><td>{H(row["cc"])}</td><td>{H(row["subject"])}</td><td>{H(row["size"])}</td>"
            + $"<td><code>{H(row["sha256"])}</code></td><td>{H(row["file"] ?? "(bytes not kept)")}</td><td>{H(row["headers_from"])}</td></tr>\n";

    // "0" read as if nothing was exported when the query chose the messages (a review).
    private static string Selected(ExportRequest request) => request.MessageKeys.Count > 0
        ? request.MessageKeys.Count.ToString(CultureInfo.InvariantCulture) + (string.IsNullOrWhiteSpace(request.Query) ? "" : ", with the query's messages")
        : string.IsNullOrWhiteSpace(request.Query) ? "none" : "none (the query selects the messages)";

    /// <summary>Where the load file's date, from, to, cc and subject were read (its <c>headers_from</c>).</summary>
    private static class HeadersSource
    {
        /// <summary>The message's own bytes.</summary>
        public const string Message = "message";
        /// <summary>The envelope in Cyrus's notification of the message's arrival.</summary>
        public const string Notification = "notification";
        /// <summary>Only the sender and subject Bonnie recorded for the message (from its arrival or a backfill).</summary>
        public const string Record = "record";
    }

    /// <summary>The headers the load file shows, and where they were read (<see cref="HeadersSource"/>; null: nowhere).</summary>
    private sealed record Headers(DateTimeOffset? Date, string? From, string? To, string? Cc, string? Subject, string? Source)
    {
        public static readonly Headers Empty = new(null, null, null, null, null, null);

        public static Headers Of(Envelope envelope) => new(envelope.Date, Addresses(envelope.From), Addresses(envelope.To), Addresses(envelope.Cc),
            envelope.Subject, HeadersSource.Notification);

        /// <summary>The headers in the bytes; null when they cannot be read.</summary>
        public static Headers? Read(byte[] bytes)
        {
            try
            {
                using var stream = new MemoryStream(bytes, writable: false);
                var parser = new MimeParser(stream, MimeFormat.Entity);
                var list = parser.ParseHeaders();
                DateTimeOffset? date = list[HeaderId.Date] is { } d && DateUtils.TryParse(d, out var parsed) ? parsed : null;
                return new Headers(date, Addresses(list, HeaderId.From), Addresses(list, HeaderId.To), Addresses(list, HeaderId.Cc),
                    list[HeaderId.Subject], HeadersSource.Message);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        private static string? Addresses(IReadOnlyList<EmailAddress> addresses)
            => addresses.Count == 0 ? null : string.Join("; ", addresses.Select(a => a.Address));

        private static string? Addresses(HeaderList list, HeaderId id)
            => list[id] is { } raw && InternetAddressList.TryParse(raw, out var addresses)
                ? string.Join("; ", addresses.Mailboxes.Select(m => m.Address))
                : list[id];
    }

    /// <summary>Temporary files for the parts written after the messages, deleted with the bundle's end.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "bonnie-export-" + Guid.NewGuid().ToString("N"));

        public Scratch()
        {
            Directory.CreateDirectory(_directory);
            LoadCsv = Writer("loadfile.csv");
            LoadJson = Writer("loadfile.json");
            Report = Writer("report.rows");
            Manifest = new LineCountingWriter(Open("manifest"));
        }

        public StreamWriter LoadCsv { get; }
        public StreamWriter LoadJson { get; }
        public StreamWriter Report { get; }
        public LineCountingWriter Manifest { get; }
        public int ManifestLines => Manifest.Lines;

        public static async Task CopyAsync(StreamWriter source, Stream destination, CancellationToken cancellationToken)
        {
            await source.FlushAsync(cancellationToken).ConfigureAwait(false);
            var file = (FileStream)source.BaseStream;
            file.Position = 0;
            await file.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            file.Position = file.Length;
        }

        public static async Task<string> HashAsync(StreamWriter source, CancellationToken cancellationToken)
        {
            await source.FlushAsync(cancellationToken).ConfigureAwait(false);
            var file = (FileStream)source.BaseStream;
            file.Position = 0;
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
            file.Position = file.Length;
            return hash;
        }

        private FileStream Open(string name)
            => new(Path.Combine(_directory, name), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 65536, FileOptions.DeleteOnClose | FileOptions.Asynchronous);

        private StreamWriter Writer(string name) => new(Open(name), new UTF8Encoding(false), 65536);

        public void Dispose()
        {
            LoadCsv.Dispose();
            LoadJson.Dispose();
            Report.Dispose();
            Manifest.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class LineCountingWriter(FileStream file) : StreamWriter(file, new UTF8Encoding(false), 65536)
    {
        public int Lines { get; private set; }

        public override void Write(string? value)
        {
            Lines++;
            base.Write(value);
        }
    }
}

/// <summary>mboxrd: a line that starts with any number of '&gt;' then "From " gets one more '&gt;'; CRLF becomes LF.</summary>
internal static class Mboxrd
{
    public static byte[] Quote(byte[] bytes)
    {
        using var output = new MemoryStream(bytes.Length + 64);
        var start = 0;
        while (start < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            var lineEnd = end < 0 ? bytes.Length : end;
            var contentEnd = lineEnd > start && bytes[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
            var line = bytes.AsSpan(start, contentEnd - start);
            var gt = 0;
            while (gt < line.Length && line[gt] == '>')
            {
                gt++;
            }
            if (line[gt..].StartsWith("From "u8))
            {
                output.WriteByte((byte)'>');
            }
            output.Write(line);
            output.WriteByte((byte)'\n');
            start = end < 0 ? bytes.Length : end + 1;
        }
        return output.ToArray();
    }
}
