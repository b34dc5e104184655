namespace Bonnie.Web.Security;

/// <summary>One API key an administrator configured: <c>Bonnie:ApiKeys:0:Name</c>, <c>:Key</c>, <c>:Role</c>.</summary>
public sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";
    public string Key { get; set; } = "";
    public string Role { get; set; } = "";
}
