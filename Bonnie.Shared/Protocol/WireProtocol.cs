namespace Bonnie.Shared.Protocol;

/// <summary>
/// The frames Bonnie's processes exchange over ZeroMQ. Kept compatible with the original Bonnie broker, so that
/// any ZeroMQ DEALER can submit a notification.
/// </summary>
/// <remarks>
/// <para><b>Client router</b> (dealers, default <c>tcp://127.0.0.1:5570</c>): the client sends one frame, the
/// notification; the broker answers one frame, <see cref="Ack"/>, once the job is durable on disk, or
/// <c>REFUSED &lt;reason&gt;</c> for a notification it will never accept (too large), <c>BUSY &lt;reason&gt;</c> while it
/// cannot take any now (its queue cannot be written): keep it and send it again later. A REQ client's empty
/// delimiter frame is tolerated and echoed.</para>
/// <para><b>Controller router</b> (workers, default 5561): worker → <c>READY &lt;n&gt;</c> (n slots free, all
/// told: at start and after HELLO; a worker that stores batches adds <c>RUNS</c>: it takes several jobs of one
/// mailbox at once and stores them in order), <c>READY</c> (one more slot free, after a job), <c>HEARTBEAT</c>;
/// broker → <c>TAKE &lt;id&gt;</c>, or <c>TAKE &lt;id&gt; &lt;after-id&gt;</c> to a worker that said RUNS (the job
/// follows after-id, of the same mailbox, which that worker holds: it may be stored only after that one),
/// <c>HELLO</c> (the broker does not know the worker, e.g. after its restart: say READY &lt;n&gt;).</para>
/// <para><b>Worker router</b> (workers, default 5560): worker → <c>GET &lt;id&gt;</c> for each TAKE at once, in the
/// order the TAKEs come (a TAKE not asked for by the job's deadline counts as lost: the job goes back uncharged, its
/// slot counted free again; so does one behind which the worker gives back a job of its run that it asked for and that
/// was sent later); broker → <c>JOB</c>
/// [id, attempt, receivedAt (unix ms), notification, then request/status/data triples of collected items] or
/// <c>GONE &lt;id&gt;</c> when the job is no longer this worker's. Worker → <c>DONE &lt;id&gt;</c>,
/// <c>POSTPONE &lt;id&gt; &lt;reason&gt; &lt;retry-after ms&gt;</c>, <c>COLLECT &lt;id&gt; &lt;request&gt;...</c>,
/// <c>FAIL &lt;id&gt; &lt;reason&gt;</c>, <c>RELEASE &lt;id&gt;</c> (not processed: the job it follows is not known
/// stored on this worker, or the worker is stopping; back to PENDING without counting an attempt).</para>
/// <para><b>Collector router</b> (collectors on the IMAP hosts, default 5569): collector → <c>READY</c>,
/// <c>HEARTBEAT</c>; broker → <c>COLLECT &lt;id&gt; &lt;request&gt;...</c>; collector → <c>COLLECTED &lt;id&gt;</c>
/// followed by request/status/data triples (status <c>OK</c> or an error text).</para>
/// Every frame but notifications and data is ASCII.
/// </remarks>
public static class WireProtocol
{
    public const string Ack = "ACK";
    public const string Refused = "REFUSED";
    public const string Busy = "BUSY";
    public const string Ready = "READY";
    public const string Heartbeat = "HEARTBEAT";
    public const string Hello = "HELLO";
    public const string Take = "TAKE";
    public const string Get = "GET";
    public const string Job = "JOB";
    public const string Gone = "GONE";
    public const string Done = "DONE";
    public const string Postpone = "POSTPONE";
    public const string Collect = "COLLECT";
    public const string Collected = "COLLECTED";
    public const string Fail = "FAIL";
    public const string Release = "RELEASE";
    public const string Runs = "RUNS";
    public const string CollectOk = "OK";

    public const int DefaultClientPort = 5570;
    public const int DefaultWorkerPort = 5560;
    public const int DefaultControllerPort = 5561;
    public const int DefaultCollectorPort = 5569;
}
