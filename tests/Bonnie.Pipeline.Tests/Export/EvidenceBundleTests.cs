using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bonnie.Pipeline.Export;
using Bonnie.Pipeline.Tests.Restore;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.Pipeline.Tests.Export;

public sealed class EvidenceBundleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private ArchiveBuilder _a = null!;
    private EvidenceBundleWriter _writer = null!;
    private string _zip = null!;
    private readonly List<(string Sha, ExportSummary Summary)> _recorded = [];
    private readonly List<byte[]> _payloads = [];
    private readonly List<string> _keys = [];

    public async Task InitializeAsync()
    {
        _a = await ArchiveBuilder.CreateAsync();
        _writer = new EvidenceBundleWriter(_a.Store, _a.Payloads, new FakeTimeProvider(T0.AddDays(3)));
        _zip = Path.Combine(_a.Directory, "bundle.zip");
        var folder = await _a.FolderAsync("f1", "user/alice/Case@example.org", T0);
        for (uint i = 1; i <= 3; i++)
        {
            var (m, bytes) = await _a.MessageAsync(folder, i, i == 2 ? "<script>alert('x')</script> & \"quotes\"" : $"message {i}", T0.AddHours(i));
            _payloads.Add(bytes);
            _keys.Add(m.Key);
        }
    }

    public async Task DisposeAsync() => await _a.DisposeAsync();

    private async Task<ExportSummary> ExportAsync(ExportRequest request, EvidenceBundleWriter? writer = null)
    {
        writer ??= _writer;
        var keys = await writer.ResolveKeysAsync(request);
        await using var file = File.Create(_zip);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await writer.WriteAsync(request, keys, file, (sha, summary, _) =>
        {
            _recorded.Add((sha, summary));
            return Task.CompletedTask;
        }, timeout.Token);
    }

    [Fact]
    public async Task WriteAsync_FolderQuery_HoldsEveryMessageByteExactAndVerifies()
    {
        var summary = await ExportAsync(new ExportRequest { Query = "folder:user/alice/Case@example.org", Officer = "ivy", IncludeMbox = true });

        Assert.Equal(3, summary.Messages);
        using (var zip = ZipFile.OpenRead(_zip))
        {
            foreach (var bytes in _payloads)
            {
                var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                Assert.Equal(bytes, Read(zip, $"messages/{sha}.eml"));
            }
            var manifest = Read(zip, EvidenceBundleWriter.ManifestName);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(manifest)), Assert.Single(_recorded).Sha);
            var manifestText = Encoding.UTF8.GetString(manifest);
            foreach (var name in new[] { "loadfile.csv", "loadfile.json", "custody.json", "report.html", "messages.mbox", $"history/{_keys[0]}.json" })
            {
                Assert.Contains("  " + name + "\n", manifestText, StringComparison.Ordinal);
            }
            using var load = JsonDocument.Parse(Read(zip, "loadfile.json"));
            var row = load.RootElement.EnumerateArray().First();
            Assert.Equal("alice@example.org", row.GetProperty("custodian").GetString());
            Assert.Equal("cc@example.net", row.GetProperty("cc").GetString());
            using var custody = JsonDocument.Parse(Read(zip, "custody.json"));
            Assert.Equal("ivy", custody.RootElement.GetProperty("exportedBy").GetString());
            Assert.Equal("folder:user/alice/Case@example.org", custody.RootElement.GetProperty("query").GetString());
        }
        Assert.True(BundleVerifier.Verify(_zip).IsIntact);
    }

    [Fact]
    public async Task WriteAsync_SelectionWithUnknownKeys_TheBundleNamesThemAndSaysWhatAQueryReaches()
    {
        // Found by a review: unknown keys gave a verified bundle that did not say they were unknown, and a query over
        // backfilled mail (no events) a verified empty bundle that did not say why.
        await ExportAsync(new ExportRequest { MessageKeys = [_keys[0], "Mnosuchkey000", "<script>x</script>"], Officer = "ivy" });

        using var zip = ZipFile.OpenRead(_zip);
        using var custody = JsonDocument.Parse(Read(zip, "custody.json"));
        Assert.Equal(["Mnosuchkey000", "<script>x</script>"], custody.RootElement.GetProperty("notFound").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(1, custody.RootElement.GetProperty("messages").GetInt32());
        Assert.Contains("backfill", custody.RootElement.GetProperty("coverage").GetString(), StringComparison.Ordinal);
        var html = Encoding.UTF8.GetString(Read(zip, "report.html"));
        Assert.Contains("<code>Mnosuchkey000</code>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;x&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>x", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_MessageInAliceAndBobsMailboxes_TheLoadFileNamesBothCustodians()
    {
        var bob = await _a.FolderAsync("b1", "user/bob@example.org", T0);
        var message = await _a.Store.GetMessageAsync(_keys[0]);
        message!.Locations.Add(new Bonnie.Shared.Storage.MessageLocation { FolderId = bob.Id, Uid = 4, FolderName = bob.Name, Since = T0, Origin = "delivered" });
        var batch = new Bonnie.Shared.Storage.StoreBatch();
        batch.Messages[message.Key] = message;
        await _a.Store.CommitAsync(batch);

        await ExportAsync(new ExportRequest { MessageKeys = [_keys[0]], Officer = "ivy" });

        using var zip = ZipFile.OpenRead(_zip);
        using var load = JsonDocument.Parse(Read(zip, "loadfile.json"));
        Assert.Equal("alice@example.org; bob@example.org", load.RootElement.EnumerateArray().Single().GetProperty("custodian").GetString());
    }

    [Fact]
    public async Task WriteAsync_HostileSubject_ReportIsEncodedWithoutScriptsOrRemoteContent()
    {
        await ExportAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });

        using var zip = ZipFile.OpenRead(_zip);
        var html = Encoding.UTF8.GetString(Read(zip, "report.html"));
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OneByteChangedInOneMessage_FailsNamingThatFile()
    {
        await ExportAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });
        var victim = $"messages/{Convert.ToHexStringLower(SHA256.HashData(_payloads[1]))}.eml";

        Rewrite(entries => entries[victim][10] ^= 1);
        var (code, output) = RunCommandLine();

        Assert.Equal(1, code);
        Assert.Contains("CHANGED " + victim, output, StringComparison.Ordinal);
        Assert.Single(BundleVerifier.Verify(_zip).Problems);
    }

    [Fact]
    public async Task Verify_FileAdded_FailsNamingIt()
    {
        await ExportAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });

        Rewrite(entries => entries["messages/planted.eml"] = "Subject: planted\r\n\r\n"u8.ToArray());
        var (code, output) = RunCommandLine();

        Assert.Equal(1, code);
        Assert.Contains("ADDED messages/planted.eml", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_FileRemoved_FailsNamingIt()
    {
        await ExportAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });

        Rewrite(entries => entries.Remove("custody.json"));
        var (code, output) = RunCommandLine();

        Assert.Equal(1, code);
        Assert.Contains("MISSING custody.json", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCommandLine_IntactBundle_ExitsZeroAndPrintsTheManifestHash()
    {
        await ExportAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });

        var (code, output) = RunCommandLine();

        Assert.Equal(0, code);
        Assert.Contains("OK:", output, StringComparison.Ordinal);
        Assert.Contains(_recorded[0].Sha, output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunCommandLine_OtherArguments_LeavesTheHostToStart()
        => Assert.Null(BundleVerifier.RunCommandLine(["--urls", "http://127.0.0.1:0"]));

    [Fact]
    public async Task WriteAsync_RecordingTheManifestFails_LeavesNoReadableBundle()
    {
        var keys = await _writer.ResolveKeysAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });
        await using (var file = File.Create(_zip))
        {
            await Assert.ThrowsAsync<IOException>(() => _writer.WriteAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" }, keys, file,
                (_, _, _) => throw new IOException("audit down")));
        }

        Assert.ThrowsAny<InvalidDataException>(() => ZipFile.OpenRead(_zip).Dispose());
    }

    [Fact]
    public async Task WriteAsync_IntoAForwardOnlyAsyncOnlyStream_WritesAVerifiableBundle()
    {
        var request = new ExportRequest { MessageKeys = _keys, Officer = "ivy", IncludeMbox = true };
        var keys = await _writer.ResolveKeysAsync(request);
        await using (var file = File.Create(_zip))
        await using (var response = new ResponseLikeStream(file))
        {
            await _writer.WriteAsync(request, keys, response, (_, _, _) => Task.CompletedTask);
        }

        Assert.True(BundleVerifier.Verify(_zip).IsIntact);
    }

    [Fact]
    public async Task WriteAsync_MessageWithoutBytes_HeadersComeFromItsDeliveryEnvelopeAndSaySo()
    {
        // Found by a review: without the bytes, to, cc and date were empty although the delivery's notification told them.
        var folder = await _a.FolderAsync("f3", "user/alice/Lost@example.org", T0);
        var key = await DeliverAsync(folder, bytes: null, subject: "Quarterly figures");
        var store = new CountingStore(_a.Store);
        var writer = new EvidenceBundleWriter(store.Proxy, _a.Payloads, new FakeTimeProvider(T0.AddDays(3)));

        await ExportAsync(new ExportRequest { MessageKeys = [key], Officer = "ivy" }, writer);

        using var zip = ZipFile.OpenRead(_zip);
        using var load = JsonDocument.Parse(Read(zip, "loadfile.json"));
        var row = load.RootElement.EnumerateArray().Single();
        Assert.Equal("not kept", row.GetProperty("payload").GetString());
        Assert.Equal("2026-11-19T10:00:00.0000000+00:00", row.GetProperty("date").GetString());
        Assert.Equal("erin@example.net", row.GetProperty("from").GetString());
        Assert.Equal("user17@example.org", row.GetProperty("to").GetString());
        Assert.Equal("audit@example.org", row.GetProperty("cc").GetString());
        Assert.Equal("Quarterly figures", row.GetProperty("subject").GetString());
        Assert.Equal("notification", row.GetProperty("headers_from").GetString());
        var csv = Encoding.UTF8.GetString(Read(zip, "loadfile.csv")).Split("\r\n");
        Assert.EndsWith(",history,payload,headers_from", csv[0], StringComparison.Ordinal);
        Assert.EndsWith(",\"not kept\",\"notification\"", csv[1], StringComparison.Ordinal);
        // Its sighting's event came first and carries no envelope: the delivery's is the one read, and only it.
        Assert.Equal(1, store.Calls(nameof(IBonnieStore.GetEventAsync)));
    }

    [Fact]
    public async Task WriteAsync_MessageWithBytes_HeadersComeFromTheBytesWithoutReadingEvents()
    {
        var folder = await _a.FolderAsync("f4", "user/alice/Kept@example.org", T0);
        var bytes = Encoding.UTF8.GetBytes("From: Frank <frank@example.com>\r\nTo: bob@example.org\r\nCc: carol@example.org\r\n"
            + "Subject: As sent\r\nDate: Fri, 20 Nov 2026 08:30:00 +0100\r\n\r\nBody\r\n");
        // The notification says otherwise on purpose: the message's own bytes are what the load file shows.
        var key = await DeliverAsync(folder, bytes, subject: "As notified");
        var store = new CountingStore(_a.Store);
        var writer = new EvidenceBundleWriter(store.Proxy, _a.Payloads, new FakeTimeProvider(T0.AddDays(3)));

        await ExportAsync(new ExportRequest { MessageKeys = [key, .. _keys], Officer = "ivy" }, writer);

        using var zip = ZipFile.OpenRead(_zip);
        using var load = JsonDocument.Parse(Read(zip, "loadfile.json"));
        var row = load.RootElement.EnumerateArray().First();
        Assert.Equal("2026-11-20T08:30:00.0000000+01:00", row.GetProperty("date").GetString());
        Assert.Equal("frank@example.com", row.GetProperty("from").GetString());
        Assert.Equal("bob@example.org", row.GetProperty("to").GetString());
        Assert.Equal("carol@example.org", row.GetProperty("cc").GetString());
        Assert.Equal("As sent", row.GetProperty("subject").GetString());
        Assert.All(load.RootElement.EnumerateArray(), r => Assert.Equal("message", r.GetProperty("headers_from").GetString()));
        Assert.Equal(0, store.Calls(nameof(IBonnieStore.GetEventAsync)));
    }

    [Fact]
    public async Task WriteAsync_FromAQueryWithoutSelection_TheReportDoesNotSayZeroSelected()
    {
        // Found by a review: "Selected messages 0" read as if the bundle held nothing.
        await ExportAsync(new ExportRequest { Query = "folder:user/alice/Case@example.org", Officer = "ivy" });
        string fromQuery;
        using (var zip = ZipFile.OpenRead(_zip))
        {
            fromQuery = Encoding.UTF8.GetString(Read(zip, "report.html"));
        }
        await ExportAsync(new ExportRequest { MessageKeys = _keys, Officer = "ivy" });
        using var selection = ZipFile.OpenRead(_zip);
        var fromSelection = Encoding.UTF8.GetString(Read(selection, "report.html"));

        Assert.Contains("<dt>Selected messages</dt><dd>none (the query selects the messages)</dd>", fromQuery, StringComparison.Ordinal);
        Assert.DoesNotContain("<dd>0</dd>", fromQuery, StringComparison.Ordinal);
        Assert.Contains("<dt>Selected messages</dt><dd>3</dd>", fromSelection, StringComparison.Ordinal);
    }

    /// <summary>
    /// A message first sighted by a read (a notification without envelope), then delivered with Cyrus's envelope;
    /// its bytes kept when given.
    /// </summary>
    private async Task<string> DeliverAsync(FolderObject folder, byte[]? bytes, string subject)
    {
        var key = "M" + Guid.NewGuid().ToString("N")[..24];
        var sighted = Notification($$"""{"event":"MessageRead","timestamp":"2026-11-19T09:59:00Z","uri":"imap://imap.example.org/user/alice;UIDVALIDITY=1/;UID=6","vnd.cmu.emailid":"{{key}}"}""");
        var delivered = Notification($$"""{"event":"MessageNew","timestamp":"2026-11-19T10:00:05Z","service":"lmtp","uri":"imap://imap.example.org/user/alice;UIDVALIDITY=1/;UID=7","messageSize":567,"vnd.cmu.emailid":"{{key}}","vnd.cmu.envelope":"(\"Thu, 19 Nov 2026 10:00:00 +0000\" \"{{subject}}\" ((\"Erin\" NIL \"erin\" \"example.net\")) ((\"Erin\" NIL \"erin\" \"example.net\")) ((\"Erin\" NIL \"erin\" \"example.net\")) ((NIL NIL \"user17\" \"example.org\")) ((NIL NIL \"audit\" \"example.org\")) NIL NIL \"<q1@example.net>\")"}""");
        var seen = new MessageLocation { FolderId = folder.Id, Uid = 6, FolderName = folder.Name, Since = T0, Origin = LocationOrigin.Seen };
        var arrived = new MessageLocation { FolderId = folder.Id, Uid = 7, FolderName = folder.Name, Since = T0.AddMinutes(1), Origin = LocationOrigin.Delivered };
        var message = new MessageObject
        {
            Key = key, EmailId = key, Size = 567, Subject = subject, From = "erin@example.net", FirstSeen = T0, Locations = [seen, arrived],
            PayloadSha256 = bytes is null ? null : await _a.Payloads.PutAsync(bytes), PayloadStatus = bytes is null ? PayloadStatus.Missing : PayloadStatus.Stored,
        };
        var batch = new StoreBatch();
        batch.Messages[key] = message;
        foreach (var (e, where) in new[] { (sighted, seen), (delivered, arrived) })
        {
            batch.Events.Add(e with { FolderId = folder.Id, FolderName = folder.Name, MessageKeys = [key] });
            batch.Changes.Add(new ChangeRecord
            {
                Kind = ObjectKind.Message, ObjectId = key, Aspect = ChangeAspect.Location, Key = where.Origin, To = where.Address, FolderId = folder.Id,
                Uid = where.Uid, At = where.Since, EventId = e.Id, Actor = new Actor("alice@example.org", null, null, "imap"),
            });
        }
        await _a.Store.CommitAsync(batch);
        return key;
    }

    private static StoredEvent Notification(string json)
    {
        var raw = Encoding.UTF8.GetBytes(json);
        var parsed = NotificationParser.Parse(raw).Event ?? throw new InvalidOperationException("test notification does not parse");
        var sha = Convert.ToHexStringLower(SHA256.HashData(raw));
        return new StoredEvent { Id = sha, Type = parsed.Type, Name = parsed.Type.ToString(), Timestamp = parsed.Timestamp, RawSha256 = sha, Raw = raw };
    }

    /// <summary>The store, counting the calls made to it: what an export costs per message.</summary>
    private sealed class CountingStore
    {
        private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);

        public CountingStore(IBonnieStore inner)
        {
            Proxy = DispatchProxy.Create<IBonnieStore, Forwarder>();
            var forwarder = (Forwarder)(object)Proxy;
            forwarder.Inner = inner;
            forwarder.Calls = _calls;
        }

        public IBonnieStore Proxy { get; }

        public int Calls(string method) => _calls.GetValueOrDefault(method);

        // DispatchProxy derives the proxy from this type, so it cannot be sealed.
#pragma warning disable CA1852
        public class Forwarder : DispatchProxy
#pragma warning restore CA1852
        {
            internal IBonnieStore Inner { get; set; } = null!;
            internal Dictionary<string, int> Calls { get; set; } = null!;

            protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            {
                ArgumentNullException.ThrowIfNull(targetMethod);
                lock (Calls)
                {
                    Calls[targetMethod.Name] = Calls.GetValueOrDefault(targetMethod.Name) + 1;
                }
                try
                {
                    return targetMethod.Invoke(Inner, args);
                }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    throw e.InnerException;
                }
            }
        }
    }

    /// <summary>Like Kestrel's response body: no seeking, no length, and synchronous writes refused.</summary>
    private sealed class ResponseLikeStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw new InvalidOperationException("Synchronous operations are disallowed.");
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous operations are disallowed.");
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
    }

    private (int Code, string Output) RunCommandLine()
    {
        using var output = new StringWriter();
        var code = BundleVerifier.RunCommandLine([BundleVerifier.Command, _zip], output, output);
        return (code ?? -1, output.ToString());
    }

    private static byte[] Read(ZipArchive zip, string name)
    {
        using var s = (zip.GetEntry(name) ?? throw new FileNotFoundException(name)).Open();
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Writes the bundle again with the entries edited, as someone tampering with it would.</summary>
    private void Rewrite(Action<Dictionary<string, byte[]>> edit)
    {
        Dictionary<string, byte[]> entries;
        using (var zip = ZipFile.OpenRead(_zip))
        {
            entries = zip.Entries.ToDictionary(e => e.FullName, e => Read(zip, e.FullName), StringComparer.Ordinal);
        }
        edit(entries);
        File.Delete(_zip);
        using var output = ZipFile.Open(_zip, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var s = output.CreateEntry(name).Open();
            s.Write(bytes);
        }
    }

    [Fact]
    public async Task WriteAsync_SubjectASpreadsheetWouldRunAsAFormula_TheLoadFileQuotesItAsText()
    {
        // Found by a review: lawyers open load files in Excel, and the sender chooses the subject.
        var folder = await _a.FolderAsync("f2", "user/alice/Formula@example.org", T0);
        var (m, _) = await _a.MessageAsync(folder, 1, "=HYPERLINK(\"http://evil.example/\",\"click\")", T0);

        await ExportAsync(new ExportRequest { MessageKeys = [m.Key], Officer = "ivy" });

        using var zip = ZipFile.OpenRead(_zip);
        var csv = Encoding.UTF8.GetString(Read(zip, "loadfile.csv"));
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\"", csv, StringComparison.Ordinal);
        Assert.DoesNotContain(",\"=", csv, StringComparison.Ordinal);
        // The JSON load file keeps the subject as it is: it is data there, not a cell.
        using var load = JsonDocument.Parse(Read(zip, "loadfile.json"));
        Assert.Equal("=HYPERLINK(\"http://evil.example/\",\"click\")", load.RootElement.EnumerateArray().Single().GetProperty("subject").GetString());
    }
}
