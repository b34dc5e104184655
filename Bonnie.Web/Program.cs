using Bonnie.Pipeline.Hosting;
using Bonnie.Web.Security;

var builder = WebApplication.CreateBuilder(args);
builder.AddBonniePipeline();
builder.AddBonnieSecurity();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapGet("/api/health", () => Results.Ok(new { status = "ok" })).AllowAnonymous();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
