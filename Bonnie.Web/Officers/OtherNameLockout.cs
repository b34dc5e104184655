using System.Collections.Concurrent;

namespace Bonnie.Web.Officers;

/// <summary>
/// Failed sign-ins of names that are no usable local account (unknown, disabled, or a directory officer's), counted in
/// memory and locked as a local account is (which the store counts): a local account locked after its failures while an
/// unknown name was refused for ever, so the answers told which names exist (a review). A restart forgets them.
/// </summary>
internal sealed class OtherNameLockout
{
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset? LockedUntil)> _names = new(StringComparer.Ordinal);

    /// <summary>Past this many names, those not locked are forgotten: a flood of invented names cannot fill the memory.</summary>
    internal const int MostNames = 10_000;

    // Typed names differ in spaces and case where the directory and the store do not: one counter for all of them.
    private static string Key(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        return key.Length > 256 ? key[..256] : key;
    }

    /// <summary>Until when the name is locked, if it is.</summary>
    public DateTimeOffset? LockedUntil(string name, DateTimeOffset now)
        => _names.TryGetValue(Key(name), out var entry) && entry.LockedUntil is { } until && until > now ? until : null;

    /// <summary>
    /// Counts a failure; returns until when the name is locked now (by this failure, or by another one finished
    /// meanwhile), or null. One atomic update: a failure finishing after the one that locked the name keeps the lock.
    /// </summary>
    public DateTimeOffset? Fail(string name, DateTimeOffset now, int maxFailures, TimeSpan lockout)
    {
        if (_names.Count >= MostNames)
        {
            // Only names not locked now are forgotten: clearing every name also unlocked them, and a locked invented name
            // then answered unlike a locked officer, who stays locked in the store (a review).
            foreach (var (key, entry) in _names)
            {
                if (entry.LockedUntil is not { } until || until <= now)
                {
                    _names.TryRemove(key, out _);
                }
            }
        }
        var entryNow = _names.AddOrUpdate(Key(name),
            _ => maxFailures <= 1 ? (0, now + lockout) : (1, null),
            (_, was) =>
            {
                if (was.LockedUntil is { } until && until > now)
                {
                    return was;
                }
                var failures = was.LockedUntil is null ? was.Failures + 1 : 1;
                return failures >= maxFailures ? (0, now + lockout) : (failures, null);
            });
        return entryNow.LockedUntil is { } lockedUntil && lockedUntil > now ? lockedUntil : null;
    }

    /// <summary>Forgets a name's failures: it signed in, or an administrator unlocked, enabled, created or reset it.</summary>
    public void Forget(string name) => _names.TryRemove(Key(name), out _);
}
