using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Payloads;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Hosting;

/// <summary>
/// Whether this process's worker keeps messages' bytes: with no payload source configured (the one-command start),
/// every delivery is stored with its history but marked payload missing, and the home page says so rather than let an
/// officer find out from a message page.
/// </summary>
internal sealed class PayloadSourceNotice(IConfiguration configuration, IOptions<PayloadOptions> payloads)
{
    public bool MessagesNotKept =>
        configuration.GetValue(WorkerOptions.Section + ":Enabled", true)
        && payloads.Value.SpoolPartitions.Count == 0
        && !payloads.Value.Imap.IsConfigured
        && !payloads.Value.UseCollector;
}
