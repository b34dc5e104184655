using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bonnie.Pipeline.Export;
using Bonnie.Pipeline.Tests.Restore;
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

    private async Task<ExportSummary> ExportAsync(ExportRequest request)
    {
        var keys = await _writer.ResolveKeysAsync(request);
        await using var file = File.Create(_zip);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await _writer.WriteAsync(request, keys, file, (sha, summary, _) =>
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
