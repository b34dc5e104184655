using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Export;
using Bonnie.Pipeline.Restore;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Bench;

/// <summary>
/// Evidence bundle throughput and memory: a synthetic store of N messages (default 10,000 of ~8 KB) in a temporary
/// directory, exported by folder query into a forward-only sink that only counts bytes (like an HTTP response).
/// Reports payload MB/s, bundle MB/s and the process' peak working set and managed heap while exporting.
/// </summary>
internal static class ExportBench
{
    public static int Run(string[] args)
    {
        var count = BenchArgs.Int(args, "--messages", 10_000);
        var size = BenchArgs.Int(args, "--size", 8_000);
        var directory = Path.Combine(Path.GetTempPath(), "bonnie-export-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            return RunAsync(directory, count, size).GetAwaiter().GetResult();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<int> RunAsync(string directory, int count, int size)
    {
        await using var store = new EmbeddedStore(Path.Combine(directory, "store"), 64, NullLogger<EmbeddedStore>.Instance);
        var payloads = new PayloadDirectory(Path.Combine(directory, "store", "payloads"), compress: true);
        await store.InitializeAsync();
        var fill = Stopwatch.StartNew();
        await FillAsync(store, payloads, count, size);
        Console.WriteLine($"export bench: {count} messages of ~{size} bytes stored in {fill.Elapsed.TotalSeconds:F1} s");

        GC.Collect();
        var writer = new EvidenceBundleWriter(store, payloads, TimeProvider.System);
        var request = new ExportRequest { Query = "folder:user/alice/bench@example.org", Officer = "bench" };
        var baseline = Environment.WorkingSet;
        long peakWorkingSet = baseline, peakHeap = GC.GetTotalMemory(false);
        using var sampler = new Timer(_ =>
        {
            peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
        }, null, 0, 20);
        var clock = Stopwatch.StartNew();
        var keys = await writer.ResolveKeysAsync(request);
        await using var sink = new CountingSink();
        var summary = await writer.WriteAsync(request, keys, sink, (_, _, _) => Task.CompletedTask);
        clock.Stop();
        sampler.Change(Timeout.Infinite, Timeout.Infinite);

        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exported {summary.Messages} messages ({summary.PayloadBytes / 1e6:F1} MB of payloads) into a {sink.Written / 1e6:F1} MB bundle in {seconds:F1} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {summary.PayloadBytes / 1e6 / seconds:F1} MB/s of messages, {sink.Written / 1e6 / seconds:F1} MB/s of bundle, {summary.Messages / seconds:F0} messages/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory while exporting: peak working set {peakWorkingSet / 1e6:F0} MB (baseline {baseline / 1e6:F0} MB), peak managed heap {peakHeap / 1e6:F0} MB"));
        return 0;
    }

    private static async Task FillAsync(EmbeddedStore store, PayloadDirectory payloads, int count, int size)
    {
        var folder = new FolderObject { Id = "benchfolder", Name = "user/alice/bench@example.org", Owner = "alice@example.org", FirstSeen = DateTimeOffset.UtcNow };
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        var random = new Random(7);
        var words = "contract invoice meeting draft budget quarterly review legal hold evidence schedule".Split(' ');
        for (var first = 0; first < count; first += 500)
        {
            var batch = new StoreBatch();
            batch.Folders[folder.Id] = folder;
            for (var i = first; i < Math.Min(count, first + 500); i++)
            {
                var body = new StringBuilder();
                while (body.Length < size)
                {
                    body.Append(words[random.Next(words.Length)]).Append(body.Length % 70 < 8 ? "\r\n" : " ");
                }
                var bytes = Encoding.ASCII.GetBytes(
                    $"From: sender{i % 50}@example.net\r\nTo: alice@example.org\r\nSubject: bench {i}\r\nMessage-ID: <{i}.bench@example.net>\r\nDate: Thu, 19 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n");
                var sha = await payloads.PutAsync(bytes);
                var key = ImapRestorer.EmailIdOf(bytes);
                var at = start.AddMilliseconds(i * 5);
                batch.Messages[key] = new MessageObject
                {
                    Key = key, EmailId = key, Size = bytes.Length, Subject = $"bench {i}", PayloadSha256 = sha, PayloadStatus = PayloadStatus.Stored, FirstSeen = at,
                    Locations = [new MessageLocation { FolderId = folder.Id, Uid = (uint)i + 1, FolderName = folder.Name, Since = at, Origin = LocationOrigin.Delivered }],
                };
                var raw = Encoding.UTF8.GetBytes($"{{\"event\":\"MessageNew\",\"bench\":{i}}}");
                var id = Convert.ToHexStringLower(SHA256.HashData(raw));
                batch.Events.Add(new StoredEvent
                {
                    Id = id, Type = EventType.MessageNew, Name = "MessageNew", Timestamp = at, ReceivedAt = at, FolderId = folder.Id, FolderName = folder.Name,
                    MessageKeys = [key], RawSha256 = id, Raw = raw,
                });
            }
            await store.CommitAsync(batch);
        }
    }

    /// <summary>Counts what is written and keeps nothing, refusing synchronous writes like a response body.</summary>
    private sealed class CountingSink : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw new InvalidOperationException("synchronous flush");
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("synchronous write");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
