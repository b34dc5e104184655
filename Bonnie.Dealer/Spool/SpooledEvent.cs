namespace Bonnie.Dealer.Spool;

/// <summary>A file in a spool directory, waiting for delivery (<c>&lt;arrival&gt;.json</c>).</summary>
internal sealed record SpooledEvent(string Directory, string Name)
{
    public string Path => System.IO.Path.Combine(Directory, Name);
}

/// <summary>A spooled event this process has renamed to its own claim name, so no other dealer sends it.</summary>
internal sealed record ClaimedEvent(SpooledEvent Event, string ClaimPath, byte[] Payload);
