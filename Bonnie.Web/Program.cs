using Bonnie.Pipeline.Export;
using Bonnie.Web.Hosting;

// `dotnet Bonnie.Web.dll verify-bundle <zip>` checks an evidence bundle offline, without starting the host.
if (BundleVerifier.RunCommandLine(args) is { } exitCode)
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddBonnie();
var app = builder.Build();
app.MapBonnie();
app.Run();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
