namespace Bonnie.Pipeline.Broker;

/// <summary>A job's state in the broker. The numbers are stored on disk: never renumber.</summary>
public enum JobState
{
    Pending = 0,
    Assigned = 1,
    Collecting = 2,
    Postponed = 3,
    Done = 4,
    Failed = 5,
}
