using Bonnie.Pipeline.Identity;
using Bonnie.Web.Api;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

internal static class OfficersExtensions
{
    public const string ChangePasswordPath = "/account/password";

    public static IServiceCollection AddOfficers(this IServiceCollection services)
    {
        services.AddOptions<OfficerOptions>().BindConfiguration(OfficerOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OfficerOptions>, ValidateOfficerOptions>();
        services.AddSingleton<IPasswordHasher<OfficerAccount>, PasswordHasher<OfficerAccount>>();
        services.AddSingleton<OfficerStore>();
        services.AddSingleton<IOfficerAuthenticator, LocalOfficerAuthenticator>();
        // Asked after the local accounts; does nothing unless Bonnie:Officers:Directory:Enabled.
        services.AddBonnieIdentity();
        services.AddSingleton<IOfficerAuthenticator, DirectoryOfficerAuthenticator>();
        services.AddSingleton<OtherNameLockout>();
        services.AddSingleton<OfficerSignIn>();
        services.AddSingleton<OfficerAccounts>();
        services.AddScoped<OfficerCircuit>();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, OfficerRevalidation>();
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<InitialAdministrator>(sp, Console.Out));

        // A removed or demoted officer must not keep the old rights for the cookie's lifetime.
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .PostConfigure(o =>
            {
                var inner = o.Events.OnValidatePrincipal;
                o.Events.OnValidatePrincipal = async context =>
                {
                    await inner(context);
                    if (context.Principal is { } principal
                        && principal.FindFirst(BonnieClaims.AuthenticationKind)?.Value == LocalOfficerAuthenticator.Kind)
                    {
                        var store = context.HttpContext.RequestServices.GetRequiredService<OfficerStore>();
                        var officer = await store.FindAsync(principal.Identity?.Name ?? "", context.HttpContext.RequestAborted);
                        // A cookie's must-change mark and the account's disagree after the officer changed their password
                        // elsewhere, or an administrator gave them a one-time password since: either way the session ends.
                        if (officer is null || officer.IsDisabled || !principal.IsInRole(officer.Role)
                            || officer.MustChangePassword != principal.HasClaim(c => c.Type == OfficerClaims.MustChangePassword))
                        {
                            context.RejectPrincipal();
                        }
                    }
                    else if (context.Principal is { } directoryPrincipal
                        && directoryPrincipal.FindFirst(BonnieClaims.AuthenticationKind)?.Value == DirectoryOfficerAuthenticator.Kind)
                    {
                        // Group membership decides the role: someone taken out of the group loses it within the
                        // resolver's cache time. A directory that does not answer leaves signed-in officers alone.
                        var services = context.HttpContext.RequestServices;
                        var resolution = await services.GetRequiredService<DirectoryResolver>()
                            .ResolveAsync(directoryPrincipal.Identity?.Name ?? "", context.HttpContext.RequestAborted);
                        var settings = services.GetRequiredService<IOptions<OfficerOptions>>().Value.Directory;
                        var role = resolution is Resolution.Resolved resolved ? DirectoryOfficerAuthenticator.RoleOf(resolved.Person, settings) : null;
                        if (resolution is not Resolution.DirectoryUnavailable && (role is null || !directoryPrincipal.IsInRole(role)))
                        {
                            context.RejectPrincipal();
                        }
                    }
                };
            });
        return services;
    }

    /// <summary>An officer with a one-time password reaches nothing but the page that replaces it.</summary>
    public static IApplicationBuilder UseMustChangePassword(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.User.HasClaim(c => c.Type == OfficerClaims.MustChangePassword)
                && !IsAllowedWhileChangingPassword(context.Request.Path))
            {
                if (ApiErrors.IsApi(context.Request))
                {
                    return ApiErrors.WriteAsync(context, StatusCodes.Status403Forbidden,
                        $"The one-time password must be replaced first, at {ChangePasswordPath}.");
                }
                context.Response.Redirect(ChangePasswordPath);
                return Task.CompletedTask;
            }
            return next(context);
        });

    private static bool IsAllowedWhileChangingPassword(PathString path) =>
        path.StartsWithSegments(ChangePasswordPath)
        || path.StartsWithSegments("/signout")
        || path.StartsWithSegments("/signin")
        || path.StartsWithSegments("/_framework")
        || path.StartsWithSegments("/_content")
        || Path.HasExtension(path.Value);

    public static IEndpointRouteBuilder MapOfficerEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Checked here rather than by the middleware, which only records its verdict for endpoints without a
        // form-bound parameter: another site must not be able to sign an officer out.
        endpoints.MapPost("/signout", async (HttpContext http, OfficerSignIn signIn, IAntiforgery antiforgery) =>
            {
                if (!await antiforgery.IsRequestValidAsync(http))
                {
                    return Results.BadRequest();
                }
                await signIn.SignOutAsync(http, http.RequestAborted);
                return Results.LocalRedirect("/signin");
            })
            .AllowAnonymous()
            .DisableAntiforgery();
        return endpoints;
    }
}

/// <summary>
/// Who is on the other end of this Blazor circuit. The HttpContext is gone once the circuit runs, so the
/// address is captured when the page is first served and handed to the circuit as a protected parameter.
/// </summary>
public sealed class OfficerCircuit
{
    /// <summary>The officer's IP address as the host saw it, for the audit log.</summary>
    public string? ClientAddress { get; set; }
}
