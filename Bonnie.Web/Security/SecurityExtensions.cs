using Bonnie.Web.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Security;

public static class SecurityExtensions
{
    /// <summary>The scheme every endpoint and page authenticates with: API key when a bearer is sent, else the cookie.</summary>
    public const string DefaultScheme = "Bonnie";

    /// <summary>
    /// Authentication (officers' cookie, API keys) and the role policies. The fallback policy requires an
    /// authenticated principal, so a page or endpoint is closed unless it opts out with AllowAnonymous.
    /// </summary>
    public static IHostApplicationBuilder AddBonnieSecurity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration("Bonnie").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, ValidateSecurityOptions>();

        builder.Services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "API key or officer cookie", o =>
                o.ForwardDefaultSelector = context => ApiKeyAuthenticationHandler.TryGetBearer(context.Request, out _)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.LoginPath = "/signin";
                o.LogoutPath = "/signout";
                o.AccessDeniedPath = "/denied";
                o.Cookie.Name = "bonnie.officer";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                // An API caller gets a status code, not a redirect to a sign-in page (ApiAuthorizationResultHandler writes the body).
                o.Events.OnRedirectToLogin = context => RejectApiOr(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => RejectApiOr(context, StatusCodes.Status403Forbidden);
            });

        AddBonniePolicies(builder.Services.AddAuthorizationBuilder());
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();
        return builder;
    }

    /// <summary>The role policies and the closed fallback; components are tested against these very definitions.</summary>
    internal static AuthorizationBuilder AddBonniePolicies(AuthorizationBuilder authorization) => authorization
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(DefaultScheme).RequireAuthenticatedUser().Build())
            .AddPolicy(BonniePolicies.CanSearch, p => p.AddAuthenticationSchemes(DefaultScheme).RequireRole(BonnieRoles.All))
            .AddPolicy(BonniePolicies.CanExport, p => p.AddAuthenticationSchemes(DefaultScheme)
                .RequireRole(BonnieRoles.Investigator, BonnieRoles.Restorer, BonnieRoles.Administrator))
            .AddPolicy(BonniePolicies.CanRestore, p => p.AddAuthenticationSchemes(DefaultScheme)
                .RequireRole(BonnieRoles.Restorer, BonnieRoles.Administrator))
            .AddPolicy(BonniePolicies.CanAdminister, p => p.AddAuthenticationSchemes(DefaultScheme)
                .RequireRole(BonnieRoles.Administrator));

    private static Task RejectApiOr(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (ApiErrors.IsApi(context.Request))
        {
            context.Response.StatusCode = status;
            if (status == StatusCodes.Status401Unauthorized)
            {
                // A 401 says how to authenticate (RFC 9110), as the key's own challenge does: the API takes a key.
                context.Response.Headers.WWWAuthenticate = "Bearer";
            }
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }
        return Task.CompletedTask;
    }
}
