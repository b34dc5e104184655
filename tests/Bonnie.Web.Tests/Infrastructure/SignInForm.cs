using System.Net;
using System.Text.RegularExpressions;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>Signs in the way a browser does: fetch the form (antiforgery token and cookie), post it back.</summary>
internal static partial class SignInForm
{
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string userName, string password)
    {
        var form = await client.GetStringAsync(new Uri("/signin", UriKind.Relative));
        var token = TokenPattern().Match(form);
        Assert.True(token.Success, "the sign-in form carries no antiforgery token");
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
        });
        return await client.PostAsync(new Uri("/signin", UriKind.Relative), content);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
