using System.Net;
using System.Text.Json;
using Bonnie.Web.Officers;
using Bonnie.Web.Security;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Api;

/// <summary>
/// The API reached with an officer's sign-in cookie rather than a key, as a script run from a signed-in browser
/// session does. Its refusals go another way than a key's (the cookie scheme's access-denied redirect, the one-time
/// password middleware before authorization), and must still be the API's JSON, never the sign-in or denied page.
/// </summary>
public sealed class OfficerSessionApiTests : IDisposable
{
    private readonly BonnieWebFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private async Task<HttpClient> SignedInAsync(string userName, string password, string role, bool oneTimePassword)
    {
        var created = await _factory.Services.GetRequiredService<OfficerAccounts>()
            .CreateAsync(BonnieWebFactory.AdminName, userName, password, role, oneTimePassword, null);
        Assert.True(created.Succeeded);
        // No redirects followed: a refusal that redirected to a page would otherwise arrive as that page's 200.
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var signIn = await SignInForm.PostAsync(client, userName, password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        return client;
    }

    private static async Task<string> ForbiddenErrorAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
    }

    [Fact]
    public async Task Api_OfficerWhoseOneTimePasswordIsNotReplaced_ForbiddenInJsonSayingWhereToReplaceIt_ThenAllowedOnceReplaced()
    {
        // An Investigator may search: the only thing missing is the password of his own.
        using var client = await SignedInAsync("ben", "ben's one-time password", BonnieRoles.Investigator, oneTimePassword: true);

        using var events = await client.GetAsync(new Uri("/api/events", UriKind.Relative));
        using var backfill = await client.PostAsync(new Uri("/api/backfill", UriKind.Relative), new StringContent("{}"));

        Assert.Equal("The one-time password must be replaced first, at /account/password.", await ForbiddenErrorAsync(events));
        // Checked before the roles: the officer is told what to do now, not about a role he may never need.
        Assert.Equal("The one-time password must be replaced first, at /account/password.", await ForbiddenErrorAsync(backfill));

        var form = await client.GetStringAsync(new Uri(OfficersExtensions.ChangePasswordPath, UriKind.Relative));
        using var change = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "password",
            ["__RequestVerificationToken"] = SignInForm.Token(form),
            ["Input.Current"] = "ben's one-time password",
            ["Input.New"] = "ben's very own password",
            ["Input.Confirm"] = "ben's very own password",
        });
        using var changed = await client.PostAsync(new Uri(OfficersExtensions.ChangePasswordPath, UriKind.Relative), change);
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        using var after = await client.GetAsync(new Uri("/api/events", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("application/json", after.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Api_OfficerWithoutTheRole_ForbiddenInJsonNamingTheRoleItTakes_NotSentToTheDeniedPage()
    {
        using var client = await SignedInAsync("ann", "ann's own long password", BonnieRoles.Auditor, oneTimePassword: false);

        using var backfill = await client.GetAsync(new Uri("/api/backfill", UriKind.Relative));
        using var restore = await client.GetAsync(new Uri("/api/restore", UriKind.Relative));
        using var events = await client.GetAsync(new Uri("/api/events", UriKind.Relative));

        Assert.Equal("ann has the role Auditor; this takes the role Administrator.", await ForbiddenErrorAsync(backfill));
        Assert.Equal("ann has the role Auditor; this takes the role Restorer or Administrator.", await ForbiddenErrorAsync(restore));
        // The same cookie is good for what the role allows: the 403s above are the role's, not a broken session.
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
    }
}
