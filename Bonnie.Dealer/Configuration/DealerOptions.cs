using Bonnie.Dealer.Transport;

namespace Bonnie.Dealer.Configuration;

/// <summary>What one dealer run needs to know; every value has a default, so no configuration is needed at all.</summary>
internal sealed class DealerOptions
{
    public const string DefaultConfigPath = "/etc/bonnie/dealer.conf";
    public const string DefaultSystemSpool = "/var/spool/bonnie/dealer";

    /// <summary>Tried in order; the first that completes the handshake gets the events.</summary>
    public IReadOnlyList<BrokerEndpoint> Brokers { get; set; } = [new BrokerEndpoint("127.0.0.1", 5570)];

    /// <summary>How long Cyrus may wait for this event's ACK before it is spooled instead.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where unacknowledged events go. When not configured: the system spool if it can be written, else a
    /// per-user state directory; both are drained.
    /// </summary>
    public IReadOnlyList<string> SpoolDirectories { get; set; } = [];

    /// <summary>After this long, a run starts no further spooled event before its own; kept small: Cyrus waits for it.</summary>
    public TimeSpan DrainBudget { get; set; } = TimeSpan.FromMilliseconds(30);

    /// <summary>
    /// Larger notifications are kept as undeliverable with the reason, not sent: the broker refuses more than its
    /// <c>Bonnie:Broker:MaxNotificationBytes</c> (16 MiB, the same default) with REFUSED, but drops the connection on
    /// a frame over four times that, which a dealer took for "try again later": the event blocked its spool for good
    /// and was sent again by every run. Raise both together.
    /// </summary>
    public long MaxNotificationBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>At most this many spooled events per run.</summary>
    public int DrainMaxEvents { get; set; } = 10;

    /// <summary>Events never sent, whoever caused them.</summary>
    public IReadOnlySet<string> DropEvents { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Users whose <see cref="DropUserEvents"/> are never sent (e.g. a backup or monitoring login).</summary>
    public IReadOnlySet<string> DropUsers { get; set; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The events dropped for <see cref="DropUsers"/>; empty means all of their events.</summary>
    public IReadOnlySet<string> DropUserEvents { get; set; } = new HashSet<string>(StringComparer.Ordinal);
}
