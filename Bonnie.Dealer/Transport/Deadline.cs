namespace Bonnie.Dealer.Transport;

/// <summary>A point in time after which an operation gives up, measured on a monotonic clock.</summary>
internal readonly struct Deadline
{
    private readonly TimeProvider _time;
    private readonly long _expiresAt;

    private Deadline(TimeProvider time, long expiresAt)
    {
        _time = time;
        _expiresAt = expiresAt;
    }

    public static Deadline After(TimeProvider time, TimeSpan budget) =>
        new(time, time.GetTimestamp() + (long)(budget.TotalSeconds * time.TimestampFrequency));

    /// <summary>The earlier of this deadline and <paramref name="budget"/> from now.</summary>
    public Deadline Within(TimeSpan budget)
    {
        var other = After(_time, budget);
        return other._expiresAt < _expiresAt ? other : this;
    }

    public TimeSpan Remaining
    {
        get
        {
            var ticks = _expiresAt - _time.GetTimestamp();
            return ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)ticks / _time.TimestampFrequency);
        }
    }

    public bool IsExpired => _time.GetTimestamp() >= _expiresAt;

    /// <summary>Remaining time for <c>poll(2)</c>; at least 1 µs so that a poll still looks once.</summary>
    public int RemainingMicroseconds => (int)Math.Clamp(Remaining.Ticks / 10, 1, int.MaxValue);
}
