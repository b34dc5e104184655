using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Officers;
using Bonnie.Web.Search;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Bonnie.Web.Components.Pages;

/// <summary>
/// A page about one item (an event, a message, a folder, a person, a user): the item is loaded, and its read recorded
/// in the officers' audit, once per item and only once the circuit is live. Prerendering would otherwise read (and
/// record) the evidence a second time, and every render after a click would read it again.
/// </summary>
public abstract class ItemPage : ComponentBase
{
    private string? _loadedItem;
    private Task _load = Task.CompletedTask;
    private int _loads;

    /// <summary>True until the item named by the route has been looked up (found or not).</summary>
    protected bool Loading { get; private set; } = true;

    [Inject]
    protected IBonnieStore Store { get; set; } = default!;

    [Inject]
    private IOfficerAudit Audit { get; set; } = default!;

    [Inject]
    private OfficerCircuit Circuit { get; set; } = default!;

    [CascadingParameter]
    private protected Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>The route's value that names the item, as <see cref="ItemLinks"/> encoded it into the link.</summary>
    protected abstract string RouteItem { get; }

    /// <summary>Clears what the page showed of the item before, so a link to another item never shows the last one's data.</summary>
    protected abstract void Forget();

    /// <summary>Reads the item (its id decoded from the route) and records the read; leaves the page empty when it is unknown.</summary>
    protected abstract Task LoadAsync(string id);

    protected sealed override async Task OnParametersSetAsync()
    {
        if (!RendererInfo.IsInteractive || RouteItem == _loadedItem)
        {
            return;
        }
        _loadedItem = RouteItem;
        Loading = true;
        var load = LoadAfterAsync(_load, RouteItem, ++_loads);
        _load = load;
        await load;
    }

    /// <summary>
    /// Loads the item once the load before it has ended. Reads go to the thread pool, so a link followed while the last
    /// item was still loading started a second load beside the first, and the first, ending last, would have set its
    /// item's fields over the second's: the page would have shown the item it had left under the address of the other.
    /// </summary>
    private async Task LoadAfterAsync(Task before, string item, int number)
    {
        try
        {
            await before;
        }
        catch (Exception)
        {
            // That load's own caller has its failure; this one only waited for it to end.
        }
        if (number != _loads)
        {
            // Another link was followed meanwhile: its load comes after this one, which has nothing left to do.
            return;
        }
        Forget();
        try
        {
            if (ItemLinks.Decode(item) is { } id)
            {
                await LoadAsync(id);
            }
        }
        finally
        {
            if (number == _loads)
            {
                Loading = false;
            }
        }
    }

    /// <summary>Records a read of evidence under the officer and client address of this circuit, before it is shown.</summary>
    protected Task RecordReadAsync(string action, string? target, IReadOnlyDictionary<string, string?>? details = null) =>
        Audit.RecordPageReadAsync(AuthenticationState, Circuit, action, target, details);
}
