using Bonnie.Pipeline.Status;
using Microsoft.AspNetCore.Components;

namespace Bonnie.Web.Components.Shared;

/// <summary>
/// A page that shows <see cref="SystemStatus"/> and re-renders when it changes. Bursts of updates (the
/// broker may publish many a second) coalesce into one render.
/// </summary>
public abstract class LiveStatusComponent : ComponentBase, IDisposable
{
    private IDisposable? _subscription;
    private int _renderPending;

    [Inject]
    private SystemStatus Status { get; set; } = default!;

    [Inject]
    private ILogger<LiveStatusComponent> Logger { get; set; } = default!;

    protected SystemStatusSnapshot Snapshot { get; private set; } = SystemStatusSnapshot.Empty;

    protected override void OnInitialized()
    {
        Snapshot = Status.Current;
        _subscription = Status.Subscribe(_ignored =>
        {
            if (Interlocked.Exchange(ref _renderPending, 1) == 0)
            {
                _ = RenderLatestAsync();
            }
        });
    }

    private async Task RenderLatestAsync()
    {
        try
        {
            await InvokeAsync(() =>
            {
                Interlocked.Exchange(ref _renderPending, 0);
                Snapshot = Status.Current;
                StateHasChanged();
            });
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The circuit went away between the update and the render: nothing left to show it to.
            Logger.LogDebug(e, "Status update arrived after the page was closed");
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _subscription?.Dispose();
        }
    }
}
