using System.Net;
using System.Text.RegularExpressions;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>Signs in the way a browser does: fetch the form (antiforgery token and cookie), post it back.</summary>
internal static partial class SignInForm
{
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string userName, string password)
    {
        var form = await client.GetStringAsync(new Uri("/signin", UriKind.Relative));
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = Token(form),
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
        });
        return await client.PostAsync(new Uri("/signin", UriKind.Relative), content);
    }

    public static string Token(string form)
    {
        var token = TokenPattern().Match(form);
        Assert.True(token.Success, "the form carries no antiforgery token");
        return WebUtility.HtmlDecode(token.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
