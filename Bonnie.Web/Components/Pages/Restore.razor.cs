using System.Globalization;
using Bonnie.Pipeline.Restore;
using Bonnie.Web.Api;
using Bonnie.Web.Audit;
using Bonnie.Web.Officers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Components.Pages;

public sealed partial class Restore
{
    private RestorePlan? _plan;
    private RestoreJob? _job;
    private string? _error;
    private bool _busy;

    [Inject] private RestoreJobs Jobs { get; set; } = null!;
    [Inject] private IOfficerAudit Audit { get; set; } = null!;
    [Inject] private IOptions<Bonnie.Pipeline.Restore.RestoreOptions> Options { get; set; } = null!;
    [Inject] private OfficerCircuit Circuit { get; set; } = null!;
    [Inject] private IAuthorizationService Authorization { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private Bonnie.Shared.Storage.IBonnieStore Store { get; set; } = null!;
    [Inject] private ILogger<Restore> Logger { get; set; } = null!;

    // What each listed message is (subject, sender, date), by key: a list of keys alone told an officer nothing (a review).
    private Dictionary<string, string> _labels = new(StringComparer.Ordinal);
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [SupplyParameterFromQuery(Name = "scope")] public string? ScopeQuery { get; set; }
    [SupplyParameterFromQuery(Name = "keys")] public string? KeysQuery { get; set; }
    [SupplyParameterFromQuery(Name = "folder")] public string? FolderQuery { get; set; }
    [SupplyParameterFromQuery(Name = "mailbox")] public string? MailboxQuery { get; set; }
    [SupplyParameterFromQuery(Name = "at")] public string? AtQuery { get; set; }
    [SupplyParameterFromQuery(Name = "job")] public string? JobQuery { get; set; }

    private RestoreForm Form { get; } = new();

    private bool Running => _job?.State == RestoreJobState.Running;

    protected override void OnInitialized()
    {
        if (RestoreScopes.TryParse(ScopeQuery, out var scope))
        {
            Form.Scope = scope;
        }
        Form.Keys = KeysQuery?.Replace(",", "\n", StringComparison.Ordinal);
        Form.FolderId = FolderQuery;
        Form.Mailbox = MailboxQuery;
        Form.At = AtQuery;
        if (JobQuery is not null && Jobs.Get(JobQuery) is { } job)
        {
            Follow(job);
        }
        else if (JobQuery is not null)
        {
            _error = $"No restore job {JobQuery} is known here: jobs are kept for {Options.Value.KeepFinishedFor.TotalHours:0} hours after they end, "
                + "and not across a restart. The officers' audit log keeps how every restore ended.";
        }
    }

    private async Task SubmitAsync(bool dryRun)
    {
        _busy = true;
        _error = null;
        try
        {
            var request = Form.ToRequest(dryRun);
            string? unknownFolder = null;
            if (request is { Scope: RestoreScope.Folder, FolderId: { Length: > 0 } folder })
            {
                // An officer knows a folder by its name; Cyrus's id was all the field took (a review).
                var id = await FolderIdOfAsync(folder);
                request = request with { FolderId = id ?? folder };
                unknownFolder = id is null ? folder : null;
            }
            var user = (await AuthenticationState).User;
            var officer = user.Identity?.Name ?? "?";
            var intoAnother = await RestoreStarter.MayRestoreIntoAnotherMailboxAsync(Authorization, user);
            var start = await RestoreStarter.StartAsync(request, Jobs, Audit, Options.Value, officer, Circuit.ClientAddress, intoAnother, CancellationToken.None);
            switch (start)
            {
                case RestoreStart.Refused r:
                    // The planner speaks of ids; the officer may have typed a name.
                    _error = unknownFolder is null ? r.Error : $"No folder is named '{unknownFolder}' or has it for its id.";
                    ForgetPlanOfOtherInput();
                    break;
                case RestoreStart.Planned p:
                    _plan = p.Plan;
                    await LabelAsync(p.Plan.Unrestorable.Select(u => (u.MessageKey, u.Reason)));
                    break;
                case RestoreStart.Started s:
                    _plan = s.Job.Plan;
                    await LabelAsync(s.Job.Plan.Unrestorable.Select(u => (u.MessageKey, u.Reason)));
                    Follow(s.Job);
                    // The job in the address: a reload, or the address sent on, shows its progress (a review lost it on reload).
                    Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("job", s.Job.Id), replace: true);
                    break;
            }
        }
        catch (FormatException ex)
        {
            _error = ex.Message;
            ForgetPlanOfOtherInput();
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>The id of the folder <paramref name="value"/> is (an id, a deleted folder's too) or is named now; null: neither.</summary>
    private async Task<string?> FolderIdOfAsync(string value)
    {
        if (await Bonnie.Web.Search.OffCircuit.Read(() => Store.GetFolderAsync(value)) is not null)
        {
            return value;
        }
        return (await Bonnie.Web.Search.OffCircuit.Read(() => Store.FindFolderByNameAsync(value)))?.Id;
    }

    /// <summary>Reads what the messages a list will show are (the first of each reason), in one read off the circuit's thread.</summary>
    private async Task LabelAsync(IEnumerable<(string Key, string Reason)> messages)
    {
        var keys = messages.GroupBy(m => m.Reason).SelectMany(g => g.Take(ListedPerReason).Select(m => m.Key)).Where(k => !_labels.ContainsKey(k)).ToList();
        try
        {
            var found = await Bonnie.Web.Search.OffCircuit.Read(async () =>
            {
                var read = new List<Bonnie.Shared.Storage.MessageObject>();
                foreach (var key in keys)
                {
                    if (await Store.GetMessageAsync(key) is { } message)
                    {
                        read.Add(message);
                    }
                }
                return read;
            });
            foreach (var message in found)
            {
                _labels[message.Key] = LabelOf(message);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only a help to read the list: the keys stay shown.
            Logger.LogWarning(e, "Could not read the messages listed by a restore");
        }
    }

    internal static string LabelOf(Bonnie.Shared.Storage.MessageObject message)
    {
        var subject = string.IsNullOrWhiteSpace(message.Subject) ? "(no subject)" : message.Subject;
        var from = string.IsNullOrWhiteSpace(message.From) ? "" : " · " + message.From;
        var date = (message.InternalDate ?? message.FirstSeen).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        return $"{subject}{from} · {date} UTC";
    }

    /// <summary>
    /// A plan of the form as it was before stays no longer under the error about the form as it is: a review read "would
    /// restore 0 message(s)" below "no folder is named…" as the outcome of the input refused. A job's plan stays while it runs.
    /// </summary>
    private void ForgetPlanOfOtherInput()
    {
        if (!Running)
        {
            _plan = null;
        }
    }

    private void Follow(RestoreJob job)
    {
        if (_job is not null)
        {
            _job.Changed -= OnChanged;
        }
        _job = job;
        job.Changed += OnChanged;
    }

    private void OnChanged(RestoreJob job) => _ = InvokeAsync(StateHasChanged);

    private void Cancel() => _job?.Cancel();

    private static double Percent(RestoreProgress p) => p.Total == 0 ? 100 : 100.0 * p.Done / p.Total;

    public void Dispose()
    {
        if (_job is not null)
        {
            _job.Changed -= OnChanged;
        }
    }

    /// <summary>The form's fields as typed.</summary>
    internal sealed class RestoreForm
    {
        public RestoreScope Scope { get; set; } = RestoreScope.Folder;
        public string? Keys { get; set; }
        public string? FolderId { get; set; }
        public string? Mailbox { get; set; }
        public string? At { get; set; }
        public string? TargetFolder { get; set; }

        public RestoreRequest ToRequest(bool dryRun) => new()
        {
            Scope = Scope,
            MessageKeys = (Keys ?? "").Split([',', '\n', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            FolderId = FolderId?.Trim(),
            Mailbox = Mailbox?.Trim(),
            At = string.IsNullOrWhiteSpace(At) ? null
                : DateTimeOffset.TryParse(At, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
                : throw new FormatException($"'{At}' is not a date and time; write it as 2026-11-20T09:00:00Z."),
            TargetFolder = string.IsNullOrWhiteSpace(TargetFolder) ? null : TargetFolder.Trim(),
            DryRun = dryRun,
        };
    }
}
