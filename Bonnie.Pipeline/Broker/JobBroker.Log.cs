using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Broker;

internal sealed partial class JobBroker
{
    [LoggerMessage(14, LogLevel.Error, "A submission of {Size} bytes could not be taken in and is not acknowledged (the dealer keeps it and resends it); the broker goes on")]
    private static partial void LogSubmitFailed(ILogger logger, Exception exception, int size);

    [LoggerMessage(1, LogLevel.Information, "Broker listening: clients {Client}, workers {Worker}, controller {Controller}, collectors {Collector}; {Jobs} unfinished jobs reloaded from {Path}")]
    private static partial void LogStarted(ILogger logger, string client, string worker, string controller, string collector, int jobs, string path);

    [LoggerMessage(2, LogLevel.Critical, "The job queue {Path} cannot be written; no submission is acknowledged until it can")]
    private static partial void LogJournalFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(15, LogLevel.Warning, "The job queue {Path} can be written again; submissions are acknowledged again")]
    private static partial void LogJournalRecovered(ILogger logger, string path);

    [LoggerMessage(3, LogLevel.Warning, "Refused a notification of {Size} bytes: the limit is {Limit} bytes; the dealer keeps it as undeliverable")]
    private static partial void LogRefused(ILogger logger, int size, int limit);

    [LoggerMessage(4, LogLevel.Debug, "A dealer left before its ACK; it resubmits from its spool")]
    private static partial void LogClientGone(ILogger logger);

    [LoggerMessage(5, LogLevel.Information, "Worker {Worker} joined")]
    private static partial void LogWorkerJoined(ILogger logger, string worker);

    [LoggerMessage(6, LogLevel.Warning, "Worker {Worker} lost ({Reason}); {Jobs} of its jobs go back to PENDING")]
    private static partial void LogWorkerLost(ILogger logger, string worker, string reason, int jobs);

    [LoggerMessage(7, LogLevel.Warning, "Job {Job} missed its deadline on worker {Worker}; the worker is marked unavailable")]
    private static partial void LogDeadlineMissed(ILogger logger, string job, string worker);

    [LoggerMessage(8, LogLevel.Warning, "Job {Job} FAILED after {Attempts} attempts: {Reason}")]
    private static partial void LogJobFailed(ILogger logger, string job, int attempts, string reason);

    [LoggerMessage(9, LogLevel.Information, "Collector {Collector} joined")]
    private static partial void LogCollectorJoined(ILogger logger, string collector);

    [LoggerMessage(10, LogLevel.Information, "Job {Job} of lane {Lane} was reported finished ahead of the lane's head (the jobs before it went out again after a restart); it leaves the lane")]
    private static partial void LogFinishedBehindHead(ILogger logger, string job, string lane);

    [LoggerMessage(11, LogLevel.Warning, "Worker {Worker} never asked for job {Job} before its deadline: the TAKE is taken as lost (a broken connection); the job and its run go back to PENDING without an attempt counted, and their slots are free again")]
    private static partial void LogTakeLost(ILogger logger, string job, string worker);

    [LoggerMessage(12, LogLevel.Information, "Worker {Worker} asked for job {Job} after its TAKE was taken as lost: answered GONE, and its slot counted busy until the worker frees it")]
    private static partial void LogLateTake(ILogger logger, string job, string worker);

    [LoggerMessage(13, LogLevel.Warning, "Worker {Worker} gave back job {Follower}, which it asked for, and never asked for job {Job} it follows, handed to it before: the TAKE of {Job} is taken as lost (a broken connection); it goes back to PENDING without an attempt counted, and its slot is free again")]
    private static partial void LogTakeLostBehindRelease(ILogger logger, string job, string worker, string follower);

    [LoggerMessage(16, LogLevel.Warning, "The broker did not run for {Missed} ms (its process was paused, or the clock was stepped forward): that time is not counted as the workers' silence nor against their jobs' deadlines")]
    private static partial void LogPaused(ILogger logger, long missed);

    [LoggerMessage(17, LogLevel.Warning, "The clock was stepped back by {Back} ms: the workers' last words and the jobs' deadlines are brought back to now")]
    private static partial void LogClockSteppedBack(ILogger logger, long back);
}
