namespace Bonnie.Web.Security;

public static class BonnieClaims
{
    /// <summary>How the principal signed in: <c>local</c>, <c>directory</c> or <c>api-key</c>.</summary>
    public const string AuthenticationKind = "bonnie:auth-kind";
}
