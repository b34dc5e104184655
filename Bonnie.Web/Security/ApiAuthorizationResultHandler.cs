using System.Security.Claims;
using Bonnie.Web.Api;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Bonnie.Web.Security;

/// <summary>
/// Challenges and forbids as usual (a page still goes to sign in), then gives an API caller's 401 or 403 the API's
/// error body, saying whether the key was missing or wrong, or which roles the endpoint takes. Names the key, never
/// quotes it.
/// </summary>
internal sealed class ApiAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        await _default.HandleAsync(next, context, policy, authorizeResult);
        if (!ApiErrors.IsApi(context.Request) || context.Response.HasStarted || !(authorizeResult.Challenged || authorizeResult.Forbidden))
        {
            return;
        }
        if (authorizeResult.Challenged)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status401Unauthorized,
                ApiKeyAuthenticationHandler.TryGetBearer(context.Request, out _)
                    ? "The API key is not valid."
                    : "An API key is required: send it as Authorization: Bearer <key>.");
            return;
        }
        await ApiErrors.WriteAsync(context, StatusCodes.Status403Forbidden, Forbidden(context.User, policy));
    }

    private static string Forbidden(ClaimsPrincipal user, AuthorizationPolicy policy)
    {
        var who = user.Identity?.Name ?? "This caller";
        var roles = string.Join(", ", user.FindAll(ClaimTypes.Role).Select(c => c.Value));
        var allowed = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
        var has = roles.Length == 0 ? who + " has no role" : $"{who} has the role {roles}";
        return allowed.Count == 0 ? $"{has} and may not do this." : $"{has}; this takes the role {OneOf(allowed)}.";
    }

    private static string OneOf(List<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
}
