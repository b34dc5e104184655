using Bonnie.Web.Officers;

namespace Bonnie.Web.Tests.Officers;

/// <summary>Names that are no usable local account lock as an officer's account does, so the answers do not tell them apart.</summary>
public sealed class OtherNameLockoutTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 23, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lockout = TimeSpan.FromMinutes(15);
    private readonly OtherNameLockout _lockout = new();

    [Fact]
    public void Fail_AsManyTimesAsAnAccount_LocksTheName_AndAFailureFinishingLaterKeepsTheLock()
    {
        Assert.Null(_lockout.Fail("nosuch", Now, 3, Lockout));
        Assert.Null(_lockout.Fail("nosuch", Now, 3, Lockout));
        Assert.Equal(Now + Lockout, _lockout.Fail("nosuch", Now, 3, Lockout));

        // A guess sent beside the one that locked it, finishing after: it unlocked the name, and pairs of guesses never
        // locked one (a review).
        Assert.Equal(Now + Lockout, _lockout.Fail("nosuch", Now.AddSeconds(1), 3, Lockout));
        Assert.Equal(Now + Lockout, _lockout.LockedUntil("nosuch", Now.AddSeconds(2)));
        // Once the lock has passed, counting starts again.
        Assert.Null(_lockout.Fail("nosuch", Now + Lockout + TimeSpan.FromSeconds(1), 3, Lockout));
        Assert.Null(_lockout.LockedUntil("nosuch", Now + Lockout + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Fail_TheNameInOtherSpacesOrCase_CountsForTheSameName()
    {
        // The directory trims and folds a name: " alice" and "ALICE" were fresh guesses at the same person.
        _lockout.Fail("alice", Now, 3, Lockout);
        _lockout.Fail(" Alice ", Now, 3, Lockout);

        Assert.Equal(Now + Lockout, _lockout.Fail("ALICE", Now, 3, Lockout));
    }

    [Fact]
    public void AFloodOfInventedNames_ForgetsTheNamesNotLocked_NeverALockedOne()
    {
        // Clearing every name at the bound unlocked a locked invented name, which then answered unlike a locked officer.
        _lockout.Fail("locked", Now, 1, Lockout);
        for (var i = 0; i < OtherNameLockout.MostNames + 10; i++)
        {
            _lockout.Fail("invented" + i, Now, 3, Lockout);
        }

        Assert.Equal(Now + Lockout, _lockout.LockedUntil("locked", Now));
    }

    [Fact]
    public void Forget_UnlocksTheName()
    {
        // An administrator's unlock, enable or new account for the name: it was locked for a quarter of an hour still.
        _lockout.Fail("carol", Now, 1, Lockout);

        _lockout.Forget("Carol");

        Assert.Null(_lockout.LockedUntil("carol", Now));
    }
}
