using System.Security.Claims;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Bonnie.Web.Officers;

/// <summary>
/// An open page (a Blazor circuit) asks again, every five seconds, whether its local officer may still act: the cookie is
/// checked on each HTTP request, but a circuit makes none. An officer disabled, removed or given another role then falls
/// back to the sign-in page (or the page's own "not allowed") instead of keeping the old rights while the tab stays open.
/// </summary>
internal sealed class OfficerRevalidation(ILoggerFactory loggers, OfficerStore store) : RevalidatingServerAuthenticationStateProvider(loggers)
{
    // Five seconds, not thirty: a disabled officer went on searching and reading for half a minute in a page already open
    // (a review). One lookup of one account per open page each time.
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(5);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
        => await StillValidAsync(store, authenticationState.User, cancellationToken).ConfigureAwait(false);

    /// <summary>Whether a local officer's principal still matches the account; other kinds are left to their own checks.</summary>
    internal static async Task<bool> StillValidAsync(OfficerStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (user.FindFirst(BonnieClaims.AuthenticationKind)?.Value != LocalOfficerAuthenticator.Kind)
        {
            // Directory officers: their group decides, checked on each request (OfficersExtensions); API keys make no circuit.
            return true;
        }
        var officer = await store.FindAsync(user.Identity?.Name ?? "", cancellationToken).ConfigureAwait(false);
        return officer is { IsDisabled: false } && user.IsInRole(officer.Role);
    }
}
