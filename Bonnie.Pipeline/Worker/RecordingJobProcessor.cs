using System.Text;

namespace Bonnie.Pipeline.Worker;

/// <summary>
/// Records each job id it is given, once, in a file (append, fsync), and nothing else. A diagnostics processor
/// (<c>Bonnie:Worker:RecordTo</c>) that proves end to end, with real processes, which jobs reached a worker.
/// Like the store, it is idempotent by job id: a job handed out twice is recorded once, and the second hand-out
/// is counted in a sibling file ending in <c>.again</c>.
/// </summary>
internal sealed class RecordingJobProcessor : IJobProcessor, IDisposable
{
    private readonly FileStream _file;
    private readonly FileStream _again;
    private readonly HashSet<string> _seen;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private readonly TimeSpan _delay;

    public RecordingJobProcessor(string path, TimeSpan delay)
    {
        _delay = delay;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _seen = File.Exists(path) ? [.. File.ReadAllLines(path).Where(l => l.Length > 0)] : [];
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        _again = new FileStream(path + ".again", FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    public async Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default)
    {
        if (_delay > TimeSpan.Zero)
        {
            await Task.Delay(_delay, cancellationToken).ConfigureAwait(false);
        }
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var target = _seen.Add(job.Id) ? _file : _again;
            await target.WriteAsync(Encoding.ASCII.GetBytes(job.Id + "\n"), cancellationToken).ConfigureAwait(false);
            target.Flush(flushToDisk: true);
            return JobOutcome.Success;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _file.Dispose();
        _again.Dispose();
        _lock.Dispose();
    }
}
